package main

import (
	_ "github.com/adrg/xdg"
	_ "github.com/alibabacloud-go/cr-20181201/v2/client"
	_ "github.com/alibabacloud-go/sts-20150401/v2/client"
	_ "github.com/aliyun/credentials-go/credentials"
	_ "github.com/docker/docker-credential-helpers/credentials"
	_ "gopkg.in/yaml.v3"
)

func main() {}

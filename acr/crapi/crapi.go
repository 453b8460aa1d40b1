// Package crapi calls the ACR API (cr 2018-12-01 through the cr-20181201 SDK, and the Personal
// Edition's GET /tokens of cr 2016-06-07 through the same client's generic CallApi) for one region
// with one set of credentials: temporary logins and the instance look-ups that find them. Answers
// are decoded as the SDK decodes them, tolerant of the service's varying types, and only in the
// fields read (internal/cloudapi/decode.go, the one decoder of cr, sts and kms).
package crapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// Token is a temporary registry login.
type Token struct {
	Username  string
	Password  string
	ExpiresAt time.Time
	// ServerDate is the answer's Date header (zero if none): ExpiresAt is on the service's clock,
	// and ExpiresAt - ServerDate is the token's life whatever the local clock says.
	ServerDate time.Time
}

// Client calls the ACR API of one region with one set of credentials.
type Client struct {
	Endpoint cloudapi.Endpoint
	Region   string
	Creds    sts.Credentials
	Retry    cloudapi.Retry // the zero value is production's policy
}

func (a *Client) sdk() (*cr.Client, error) {
	cfg := cloudapi.Config(a.Endpoint, a.Region)
	cfg.AccessKeyId = dara.String(a.Creds.AccessKeyID)
	cfg.AccessKeySecret = dara.String(a.Creds.AccessKeySecret)
	if a.Creds.SecurityToken != "" {
		cfg.SecurityToken = dara.String(a.Creds.SecurityToken)
	}
	c, err := cr.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("cr client: %s", cloudapi.Scrub(err.Error()))
	}
	return c, nil
}

// call performs one API call and decodes the fields read of its answer into out (cloudapi.Decode).
func (a *Client) call(ctx context.Context, params *openapi.Params, query map[string]*string, read cloudapi.Fields, out any) error {
	_, err := a.callDated(ctx, params, query, read, out)
	return err
}

// callDated is call that also returns the answer's Date header (zero if none).
func (a *Client) callDated(ctx context.Context, params *openapi.Params, query map[string]*string, read cloudapi.Fields, out any) (time.Time, error) {
	c, err := a.sdk()
	if err != nil {
		return time.Time{}, err
	}
	res, err := cloudapi.CallResult(ctx, &c.Client, cloudapi.Request{Service: "cr", Endpoint: a.Endpoint, Params: params, Query: query, Retry: a.Retry})
	if err != nil {
		return time.Time{}, err
	}
	if err := cloudapi.Decode(res.Body, read, out); err != nil {
		return time.Time{}, fmt.Errorf("cr %s: the answer from %s does not have the expected shape (%s)", dara.StringValue(params.Action), a.Endpoint, err)
	}
	return res.ServerDate, nil
}

// rpc names a cr 2018-12-01 action with the parameters cr-20181201 v2 uses.
func rpc(action string) *openapi.Params {
	return &openapi.Params{
		Action: dara.String(action), Version: dara.String("2018-12-01"), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
}

// failed turns an answer with IsSuccess=false (which can come with HTTP 200) into an error.
func failed(action string, ok *bool, code, requestID *string) error {
	if ok != nil && *ok {
		return nil
	}
	c := dara.StringValue(code)
	if c == "" {
		c = "IsSuccess=false"
	}
	return &cloudapi.Error{Service: "cr", Action: action, Code: c, RequestID: dara.StringValue(requestID)}
}

// personalTokenBody is the answer of GET /tokens (cr 2016-06-07), for which no SDK model exists
// (cr-20160607 is generated with body type "none"): {"data":{"authorizationToken","tempUserName",
// "expireDate"},"requestId"}, expireDate in milliseconds, a number or a numeric string.
type personalTokenBody struct {
	Data *struct {
		AuthorizationToken *string `json:"authorizationToken"`
		TempUserName       *string `json:"tempUserName"`
		ExpireDate         *int64  `json:"expireDate"`
	} `json:"data"`
	RequestID *string `json:"requestId"`
}

var personalTokenRead = cloudapi.Fields{"data": {"authorizationToken": nil, "tempUserName": nil, "expireDate": nil}, "requestId": nil}

// PersonalToken asks for a temporary login to the Personal Edition (classic) registries of the
// region: GET /tokens of cr 2016-06-07, through the cr-20181201 client's generic CallApi (the
// cr-20160607 module discards this answer's body).
func (a *Client) PersonalToken(ctx context.Context) (Token, error) {
	var resp personalTokenBody
	params := &openapi.Params{
		Action: dara.String("GetAuthorizationToken"), Version: dara.String("2016-06-07"), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/tokens"), Method: dara.String("GET"), AuthType: dara.String("AK"),
		Style: dara.String("ROA"), ReqBodyType: dara.String("json"), BodyType: dara.String("json"),
	}
	date, err := a.callDated(ctx, params, nil, personalTokenRead, &resp)
	if err != nil {
		return Token{}, err
	}
	if resp.Data == nil || dara.StringValue(resp.Data.AuthorizationToken) == "" || dara.StringValue(resp.Data.TempUserName) == "" {
		return Token{}, errors.New("cr GET /tokens: the answer lacks data.authorizationToken or data.tempUserName")
	}
	exp, err := millis(resp.Data.ExpireDate)
	if err != nil {
		return Token{}, fmt.Errorf("cr GET /tokens: data.expireDate %s", err)
	}
	return Token{Username: *resp.Data.TempUserName, Password: *resp.Data.AuthorizationToken, ExpiresAt: exp, ServerDate: date}, nil
}

var enterpriseTokenRead = cloudapi.Fields{"AuthorizationToken": nil, "TempUsername": nil, "ExpireTime": nil, "IsSuccess": nil, "Code": nil, "RequestId": nil}

// EnterpriseToken asks for a temporary login to an Enterprise Edition instance (also tried for
// crpi- Personal instances when the user opts in; experimental).
func (a *Client) EnterpriseToken(ctx context.Context, instanceID string) (Token, error) {
	var resp cr.GetAuthorizationTokenResponseBody
	date, err := a.callDated(ctx, rpc("GetAuthorizationToken"), map[string]*string{"InstanceId": dara.String(instanceID)}, enterpriseTokenRead, &resp)
	if err != nil {
		return Token{}, err
	}
	if err := failed("GetAuthorizationToken", resp.IsSuccess, resp.Code, resp.RequestId); err != nil {
		return Token{}, err
	}
	if dara.StringValue(resp.AuthorizationToken) == "" || dara.StringValue(resp.TempUsername) == "" || resp.ExpireTime == nil {
		return Token{}, errors.New("cr GetAuthorizationToken: the answer lacks AuthorizationToken, TempUsername or ExpireTime")
	}
	exp, err := millis(resp.ExpireTime)
	if err != nil {
		return Token{}, fmt.Errorf("cr GetAuthorizationToken: ExpireTime %s", err)
	}
	return Token{Username: *resp.TempUsername, Password: *resp.AuthorizationToken, ExpiresAt: exp, ServerDate: date}, nil
}

// Instance is an Enterprise Edition instance.
type Instance struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region"`
}

var listInstanceRead = cloudapi.Fields{
	"Instances":  {"InstanceId": nil, "InstanceName": nil, "RegionId": nil},
	"TotalCount": nil, "IsSuccess": nil, "Code": nil, "RequestId": nil,
}

// FindInstance looks an Enterprise instance up by its exact name. ListInstance filters names
// fuzzily, so every page is read and only an exact match counts.
func (a *Client) FindInstance(ctx context.Context, name string) (Instance, error) {
	const pageSize = 50
	for page := 1; page <= 100; page++ {
		var resp cr.ListInstanceResponseBody
		q := map[string]*string{
			"InstanceName": dara.String(name),
			"PageNo":       dara.String(strconv.Itoa(page)),
			"PageSize":     dara.String(strconv.Itoa(pageSize)),
		}
		if err := a.call(ctx, rpc("ListInstance"), q, listInstanceRead, &resp); err != nil {
			return Instance{}, err
		}
		if err := failed("ListInstance", resp.IsSuccess, resp.Code, resp.RequestId); err != nil {
			return Instance{}, err
		}
		for _, in := range resp.Instances {
			if in != nil && strings.EqualFold(dara.StringValue(in.InstanceName), name) {
				region := dara.StringValue(in.RegionId)
				if region == "" {
					region = a.Region
				}
				return Instance{ID: dara.StringValue(in.InstanceId), Name: name, Region: region}, nil
			}
		}
		if len(resp.Instances) < pageSize || page*pageSize >= int(dara.Int32Value(resp.TotalCount)) {
			break
		}
	}
	return Instance{}, &NotFoundError{what: fmt.Sprintf("Enterprise instance named %q", name), region: a.Region}
}

var listInstanceEndpointRead = cloudapi.Fields{
	"Endpoints": {"Domains": {"Domain": nil}},
	"IsSuccess": nil, "Code": nil, "RequestId": nil,
}

// InstanceDomains lists the registry domains of an instance (SYSTEM and USER) from
// ListInstanceEndpoint, lower-cased.
func (a *Client) InstanceDomains(ctx context.Context, instanceID string) ([]string, error) {
	var resp cr.ListInstanceEndpointResponseBody
	q := map[string]*string{"InstanceId": dara.String(instanceID), "ModuleName": dara.String("Registry")}
	if err := a.call(ctx, rpc("ListInstanceEndpoint"), q, listInstanceEndpointRead, &resp); err != nil {
		return nil, err
	}
	if err := failed("ListInstanceEndpoint", resp.IsSuccess, resp.Code, resp.RequestId); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range resp.Endpoints {
		if e == nil {
			continue
		}
		for _, d := range e.Domains {
			if d != nil && d.Domain != nil {
				out = append(out, strings.ToLower(strings.TrimSpace(*d.Domain)))
			}
		}
	}
	return out, nil
}

// NotFoundError is a lookup that found nothing (callers tell it apart with errors.As to give advice).
type NotFoundError struct {
	what   string // e.g. `Enterprise instance named "team"`
	region string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no %s in region %s visible to these credentials", e.what, e.region)
}

// millis reads a time in milliseconds since the epoch (tea's decoder has already taken a number
// or a numeric string).
func millis(ms *int64) (time.Time, error) {
	if ms == nil || *ms <= 0 {
		return time.Time{}, errors.New("is not a time in milliseconds")
	}
	return time.UnixMilli(*ms), nil
}

package s3gw

import (
	"errors"
	"testing"
)

func TestParseCORS(t *testing.T) {
	age := 60
	ok := corsRuleXML{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"*"}, MaxAgeSeconds: &age}
	rules, err := parseCORS(&corsXML{Rules: []corsRuleXML{ok}})
	if err != nil || len(rules) != 1 || rules[0].MaxAgeSeconds != 60 {
		t.Fatalf("parseCORS = %+v, %v", rules, err)
	}
	noAge := ok
	noAge.MaxAgeSeconds = nil
	if rules, _ := parseCORS(&corsXML{Rules: []corsRuleXML{noAge}}); rules[0].MaxAgeSeconds != -1 {
		t.Fatalf("a rule without MaxAgeSeconds has %d", rules[0].MaxAgeSeconds)
	}
	for name, c := range map[string]struct {
		rule corsRuleXML
		want *APIError
	}{
		"no method":   {corsRuleXML{AllowedOrigins: []string{"*"}}, errMalformedXML},
		"no origin":   {corsRuleXML{AllowedMethods: []string{"GET"}}, errMalformedXML},
		"bad method":  {corsRuleXML{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}, errInvalidRequest},
		"two stars":   {corsRuleXML{AllowedOrigins: []string{"https://*.*.com"}, AllowedMethods: []string{"GET"}}, errInvalidRequest},
		"star header": {corsRuleXML{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, ExposeHeaders: []string{"x-*"}}, errInvalidRequest},
	} {
		if _, err := parseCORS(&corsXML{Rules: []corsRuleXML{c.rule}}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %s", name, err, c.want.Code)
		}
	}
	if _, err := parseCORS(&corsXML{}); !errors.Is(err, errMalformedXML) {
		t.Errorf("no rules: %v", err)
	}
}

func TestMatchCORS(t *testing.T) {
	rules := []CORSRule{
		{ID: "a", AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"x-amz-*", "content-type"}},
		{ID: "b", AllowedOrigins: []string{"http://127.0.0.1:*"}, AllowedMethods: []string{"PUT", "POST"}},
	}
	for _, c := range []struct {
		origin, method string
		headers        []string
		want           string
	}{
		{"https://app.example.com", "GET", nil, "a"},
		{"https://app.example.com", "GET", []string{"x-amz-date", "content-type"}, "a"},
		{"https://app.example.com", "GET", []string{"authorization"}, ""},
		{"https://example.com", "GET", nil, ""},
		{"https://app.example.com", "PUT", nil, ""},
		{"http://127.0.0.1:8080", "POST", nil, "b"},
		{"http://127.0.0.1:8080", "POST", []string{"content-type"}, ""},
	} {
		rl := matchCORS(rules, c.origin, c.method, c.headers)
		got := ""
		if rl != nil {
			got = rl.ID
		}
		if got != c.want {
			t.Errorf("matchCORS(%s, %s, %v) = %q, want %q", c.origin, c.method, c.headers, got, c.want)
		}
	}
}

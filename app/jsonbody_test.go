package app

import (
	"errors"
	"testing"
)

func TestDecodeBodyStrictJSON(t *testing.T) {
	type body struct {
		Name     string         `json:"name"`
		Password string         `json:"password"`
		Metadata map[string]any `json:"metadata"`
	}
	tests := []struct {
		name      string
		json      string
		wantError bool
		wantName  string
	}{
		{"plain", `{"name":"Ann","password":"x"}`, false, "Ann"},
		{"escaped surrogate pair", `{"name":"fire \ud83d\udd25"}`, false, "fire 🔥"},
		{"escaped backslash before u", `{"name":"C:\\ud800"}`, false, `C:\ud800`},
		{"other escapes", `{"name":"a\"b\\c\n\u00e9"}`, false, "a\"b\\c\né"},
		{"lone high surrogate", `{"name":"Sur\ud800"}`, true, ""},
		{"lone low surrogate", `{"name":"Sur\udc00x"}`, true, ""},
		{"high surrogate then non-surrogate", `{"name":"\ud800\u0041"}`, true, ""},
		{"duplicate key", `{"name":"Nobody","name":"Ann"}`, true, ""},
		{"duplicate key in nested object", `{"metadata":{"a":1,"a":2}}`, true, ""},
		{"upper-case key", `{"NAME":"Ann"}`, true, ""},
		{"mixed-case key", `{"Password":"x"}`, true, ""},
		{"same key in different objects", `{"metadata":{"name":1},"name":"Ann"}`, false, "Ann"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got body
			err := decodeBody([]byte(tt.json), &got)
			if (err != nil) != tt.wantError {
				t.Fatalf("decodeBody(%s) error = %v, want error %v", tt.json, err, tt.wantError)
			}
			if err == nil && got.Name != tt.wantName {
				t.Errorf("name = %q, want %q", got.Name, tt.wantName)
			}
		})
	}
}

func TestUnknownFieldMessage(t *testing.T) {
	type body struct {
		Title string `json:"title"`
	}
	tests := []struct {
		name        string
		json        string
		wantField   string
		wantMessage string
	}{
		{"unknown field", `{"title":"a","x":{}}`, "x", `The field "x" is not accepted here; remove it.`},
		{"unknown field first", `{"admin":true,"title":"a"}`, "admin", `The field "admin" is not accepted here; remove it.`},
		{"field in another case", `{"Title":"a"}`, "Title", `The field "Title" is not accepted here; field names are case-sensitive, so send it as "title".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got body
			err := decodeBody([]byte(tt.json), &got)
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("decodeBody(%s) error = %v, want an *apiError", tt.json, err)
			}
			if ae.Field != tt.wantField || ae.Message != tt.wantMessage {
				t.Errorf("error field, message = %q, %q, want %q, %q", ae.Field, ae.Message, tt.wantField, tt.wantMessage)
			}
		})
	}
}

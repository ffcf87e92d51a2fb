// Package adminclient calls cardflow's admin API (DESIGN §5). The stock
// import command and the demo use it.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client is an admin API client.
type Client struct {
	BaseURL string // http://127.0.0.1:8081
	Token   string
	Actor   string // recorded in the audit log
	HTTP    *http.Client
}

// ImportResult is the answer to a stock import.
type ImportResult struct {
	Added      int `json:"added"`
	Duplicates int `json:"duplicates"`
	Invalid    int `json:"invalid"`
	Errors     []struct {
		Line int    `json:"line"`
		Why  string `json:"why"`
	} `json:"errors"`
}

// ImportStock streams card lines to POST /v1/stock/{sku}.
func (c *Client) ImportStock(ctx context.Context, sku string, body io.Reader) (ImportResult, error) {
	var res ImportResult
	err := c.do(ctx, http.MethodPost, "/v1/stock/"+sku, body, &res)
	return res, err
}

// Level is one SKU's stock.
type Level struct {
	SKU   string `json:"sku"`
	Level int    `json:"level"`
}

// Stock lists stock levels.
func (c *Client) Stock(ctx context.Context) ([]Level, error) {
	var res struct {
		Stock []Level `json:"stock"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/stock", nil, &res)
	return res.Stock, err
}

// Refund refunds an order (POST /v1/orders/{id}/refund) and returns its
// status after the action.
func (c *Client) Refund(ctx context.Context, id, reason string) (string, error) {
	body, err := json.Marshal(struct {
		Reason string `json:"reason"`
	}{reason})
	if err != nil {
		return "", fmt.Errorf("encode reason: %w", err)
	}
	var res struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
	}
	err = c.do(ctx, http.MethodPost, "/v1/orders/"+url.PathEscape(id)+"/refund", bytes.NewReader(body), &res)
	return res.Order.Status, err
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if c.Actor != "" {
		req.Header.Set("X-Cardflow-Actor", c.Actor)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, eb.Error.Code, eb.Error.Message)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

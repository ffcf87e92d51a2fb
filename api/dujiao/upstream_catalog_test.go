package dujiao_test

import (
	"context"
	"encoding/json"
	"testing"

	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
)

func TestAShopConnectsAndSeesItsLiveBalance(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.TopUp(t, shopID, 1000)
	p, err := r.shop.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.OK || p.SiteName != "cardflow" || p.ProtocolVersion != "1.0" || p.Balance != "1000.00" || p.Currency != "CNY" ||
		p.UserID == 0 || p.MemberLevel != nil {
		t.Errorf("ping %+v", p)
	}
	other, err := r.other.Ping(ctx)
	if err != nil || other.Balance != "0.00" || other.UserID == p.UserID {
		t.Errorf("the other shop's ping %+v, %v", other, err)
	}
}

func TestAShopImportsEveryDockedProductWithOneSKUAndItsStock(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3")
	if err := r.Engine.Pause(dockingtest.Operator, "jd-50"); err != nil {
		t.Fatal(err)
	}
	cats, supported, err := r.shop.Categories(ctx)
	if err != nil || !supported {
		t.Fatalf("categories: %v, %v", supported, err)
	}
	catID := map[string]uint{}
	for _, c := range cats {
		catID[c.Name["zh-CN"].(string)] = c.ID
		if c.ID == 0 || c.ParentID != 0 {
			t.Errorf("category %+v", c)
		}
	}
	if len(cats) != 3 || catID["Q币"] == 0 || catID["购物卡"] == 0 || catID["话费"] == 0 {
		t.Fatalf("categories %+v", cats)
	}

	// Pages of two, as a shop pages: until it holds total.
	all, complete, err := r.shop.Products(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !complete || len(all) != 4 {
		t.Fatalf("%d products, complete %v: %+v", len(all), complete, all)
	}
	byID := map[uint]djshop.Product{}
	for _, p := range all {
		byID[p.ID] = p
		if len(p.SKUs) != 1 || p.SKUs[0].ID != p.ID || p.SKUs[0].PriceAmount != p.PriceAmount || p.Currency != "CNY" {
			t.Errorf("product %d: %+v", p.ID, p)
		}
	}
	for _, tc := range []struct {
		id                  uint
		price, kind, status string
		stock               int
		active              bool
		category            string
	}{
		{idQB, "9.50", "auto", "low_stock", 3, true, "Q币"},
		{idJD, "48.00", "auto", "out_of_stock", 0, false, "购物卡"},   // paused
		{idSteam, "19.00", "auto", "unlimited", -1, true, ""},      // a remote supplier can supply
		{idMobile, "98.00", "manual", "unlimited", -1, true, "话费"}, // a top-up
	} {
		p := byID[tc.id]
		sku := p.SKUs[0]
		if p.PriceAmount != tc.price || p.FulfillmentType != tc.kind || sku.StockStatus != tc.status || sku.StockQuantity != tc.stock ||
			p.IsActive != tc.active || sku.IsActive != tc.active || p.CategoryID != catID[tc.category] {
			t.Errorf("product %d: %+v", tc.id, p)
		}
	}
	if d := byID[idJD]; d.Description["zh-CN"] != "仅限<自营>商品" || d.Content["zh-CN"] != "<p>仅限&lt;自营&gt;商品</p>" {
		t.Errorf("description %v, content %v", d.Description, d.Content)
	}
	form, _ := json.Marshal(byID[idMobile].ManualFormSchema)
	if string(form) != `{"fields":[{"key":"account","label":{"zh-CN":"手机号"},"max_len":64,"placeholder":{"zh-CN":"手机号"},"required":true,"type":"text"}]}` {
		t.Errorf("form schema %s", form)
	}
	if byID[idQB].ManualFormSchema != nil {
		t.Errorf("a card product asks for a form: %v", byID[idQB].ManualFormSchema)
	}

	// One product, as import and the stock check before a sale read it.
	p, err := r.shop.Product(ctx, idQB)
	if err != nil || p.ID != idQB || p.SKUs[0].StockQuantity != 3 {
		t.Errorf("product %d: %+v, %v", idQB, p, err)
	}
	for _, id := range []uint{999, 1} {
		if _, err := r.shop.Product(ctx, id); !isAPIError(err, 404, "product_not_found") {
			t.Errorf("product %d: %v", id, err)
		}
	}
}

func TestWithoutIncludeInactiveAPausedProductIsLeftOutAndTotalCountsTheRest(t *testing.T) {
	r := newRig(t, rigOptions{})
	if err := r.Engine.Pause(dockingtest.Operator, "jd-50"); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct {
			ID uint `json:"id"`
		} `json:"items"`
		Total            int  `json:"total"`
		Page             int  `json:"page"`
		PageSize         int  `json:"page_size"`
		IncludesInactive bool `json:"includes_inactive"`
	}
	// updated_after is ignored, whatever it says: the answer is everything.
	status, body, err := r.shop.Do(context.Background(), "GET", "/api/v1/upstream/products?page=2&page_size=2&updated_after=2999-01-01T00:00:00+08:00", nil)
	if err != nil || status != 200 {
		t.Fatalf("%d %s %v", status, body, err)
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || page.Page != 2 || page.PageSize != 2 || page.IncludesInactive || len(page.Items) != 1 || page.Items[0].ID != idMobile {
		t.Errorf("page %s", body)
	}
	status, body, _ = r.shop.Do(context.Background(), "GET", "/api/v1/upstream/products?page=9&page_size=50", nil)
	if status != 200 || string(body) != `{"ok":true,"items":[],"total":3,"page":9,"page_size":50,"includes_inactive":false}` {
		t.Errorf("a page past the end: %d %s", status, body)
	}
}

func isAPIError(err error, status int, code string) bool {
	e, ok := err.(*djshop.APIError)
	return ok && e.Status == status && e.Code == code
}

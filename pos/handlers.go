package pos

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"socialwallet/wallet"
)

type productJSON struct {
	Code   string `json:"code"`
	NameKK string `json:"name_kk"`
	NameRU string `json:"name_ru"`
	Unit   string `json:"unit"`
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request, m wallet.Merchant) {
	ps, err := s.cfg.Wallet.Catalog(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	out := struct {
		Products []productJSON `json:"products"`
	}{Products: make([]productJSON, len(ps))}
	for i, p := range ps {
		out.Products[i] = productJSON{Code: p.Code, NameKK: p.NameKK, NameRU: p.NameRU, Unit: string(p.Unit)}
	}
	writeJSON(w, http.StatusOK, out)
}

type tokenCheckJSON struct {
	Member     string    `json:"member"`
	Available  int64     `json:"available_tiyn"`
	Mode       string    `json:"mode"`
	DiscountBP int       `json:"discount_bp"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *Server) check(w http.ResponseWriter, r *http.Request, m wallet.Merchant) {
	if bad := checkContentType(r); bad != nil {
		s.invalid(w, r, bad)
		return
	}
	c, bad := decodeCheck(r.Body)
	if bad != nil {
		s.invalid(w, r, bad)
		return
	}
	signed, p, retry, err := s.resolve(r.Context(), m, c)
	if p != nil {
		s.fail(w, r, *p, retry)
		return
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	tc, err := s.cfg.Wallet.CheckToken(r.Context(), m, signed)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenCheckJSON{
		Member: tc.Member, Available: int64(tc.Available), Mode: string(tc.Mode),
		DiscountBP: tc.DiscountBP, ExpiresAt: tc.ExpiresAt.UTC(),
	})
}

func (s *Server) redeem(w http.ResponseWriter, r *http.Request, m wallet.Merchant) {
	key := r.Header.Get("Idempotency-Key")
	if !wallet.ValidIdempotencyKey(key) {
		s.invalid(w, r, []fieldError{{Field: "Idempotency-Key", Reason: "header of 1–255 visible ASCII characters is needed, unique per purchase"}})
		return
	}
	if bad := checkContentType(r); bad != nil {
		s.invalid(w, r, bad)
		return
	}
	body, bad := decodeRedeem(r.Body)
	if bad != nil {
		s.invalid(w, r, bad)
		return
	}
	hash := body.hash()
	// From here the purchase runs to its end even if the till hangs up, so a
	// retry after a dropped connection finds the first answer instead of a
	// half-finished attempt.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.PurchaseTimeout)
	defer cancel()
	signed, p, retry, err := s.resolve(ctx, m, body.credential())
	if p != nil {
		s.fail(w, r, *p, retry)
		return
	}
	if err != nil {
		// A retry may come after its code lapsed: the first answer still stands.
		red, found, rerr := s.cfg.Wallet.Replay(ctx, m.ID, key, hash)
		if rerr != nil {
			s.failErr(w, r, rerr)
			return
		}
		if !found {
			s.failErr(w, r, err)
			return
		}
		if body.Code != "" && s.cfg.Limiter != nil {
			if err := s.cfg.Limiter.Release(ctx, m.ID); err != nil {
				s.cfg.Log.Warn("pos: release wrong-code unit", "merchant", m.ID, "err", err)
			}
		}
		s.created(w, red, true)
		return
	}
	red, replayed, err := s.cfg.Wallet.Redeem(ctx, wallet.RedeemRequest{
		Merchant:       m,
		Token:          signed,
		IdempotencyKey: key,
		RequestHash:    hash,
		ReceiptNo:      body.ReceiptNo,
		Lines:          body.lines(),
	})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.created(w, red, replayed)
}

func (s *Server) created(w http.ResponseWriter, red wallet.Redemption, replayed bool) {
	w.Header().Set("Location", "/v1/redemptions/"+strconv.FormatInt(red.ID, 10))
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	// The stored first answer is shown as it was: a later void is seen by GET.
	red.VoidedAt = time.Time{}
	writeJSON(w, http.StatusCreated, redemptionOf(red))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, m wallet.Merchant) {
	id, ok := pathID(r)
	if !ok {
		s.fail(w, r, newProblem(string(wallet.CodeNotFound), "no such purchase"), 0)
		return
	}
	red, err := s.cfg.Wallet.Redemption(r.Context(), m.ID, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, redemptionOf(red))
}

func (s *Server) void(w http.ResponseWriter, r *http.Request, m wallet.Merchant) {
	id, ok := pathID(r)
	if !ok {
		s.fail(w, r, newProblem(string(wallet.CodeNotFound), "no such purchase"), 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.PurchaseTimeout)
	defer cancel()
	red, err := s.cfg.Wallet.VoidRedemption(ctx, m.ID, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, redemptionOf(red))
}

type lineJSON struct {
	LineNo        int    `json:"line_no"`
	Product       string `json:"product"`
	QtyMilli      int64  `json:"qty_milli"`
	UnitPriceTiyn int64  `json:"unit_price_tiyn"`
	GrossTiyn     int64  `json:"gross_tiyn"`
	DiscountTiyn  int64  `json:"discount_tiyn"`
	NetTiyn       int64  `json:"net_tiyn"`
}

type voidJSON struct {
	VoidedAt            time.Time `json:"voided_at"`
	ReturnedTiyn        int64     `json:"returned_tiyn"`
	LapsedTiyn          int64     `json:"lapsed_tiyn"`
	FamilyRemainingTiyn int64     `json:"family_remaining_tiyn"`
}

type redemptionJSON struct {
	ID                  int64      `json:"id"`
	Status              string     `json:"status"`
	ReceiptNo           string     `json:"receipt_no"`
	Member              string     `json:"member"`
	CreatedAt           time.Time  `json:"created_at"`
	Mode                string     `json:"mode"`
	DiscountBP          int        `json:"discount_bp"`
	Lines               []lineJSON `json:"lines"`
	GrossTiyn           int64      `json:"gross_tiyn"`
	DiscountTiyn        int64      `json:"discount_tiyn"`
	NetTiyn             int64      `json:"net_tiyn"`
	CoveredTiyn         int64      `json:"covered_tiyn"`
	ToPayTiyn           int64      `json:"to_pay_tiyn"`
	FamilyRemainingTiyn int64      `json:"family_remaining_tiyn"`
	Void                *voidJSON  `json:"void,omitempty"`
}

func redemptionOf(red wallet.Redemption) redemptionJSON {
	out := redemptionJSON{
		ID: red.ID, Status: "completed", ReceiptNo: red.ReceiptNo, Member: red.Member,
		CreatedAt: red.CreatedAt.UTC(), Mode: string(red.Mode), DiscountBP: red.DiscountBP,
		Lines:     make([]lineJSON, len(red.Lines)),
		GrossTiyn: int64(red.Gross), DiscountTiyn: int64(red.Discount), NetTiyn: int64(red.Net),
		CoveredTiyn: int64(red.Covered), ToPayTiyn: int64(red.ToPay), FamilyRemainingTiyn: int64(red.FamilyRemaining),
	}
	for i, l := range red.Lines {
		out.Lines[i] = lineJSON{LineNo: l.No, Product: l.Product, QtyMilli: l.QtyMilli, UnitPriceTiyn: int64(l.UnitPrice),
			GrossTiyn: int64(l.Gross), DiscountTiyn: int64(l.Discount), NetTiyn: int64(l.Net)}
	}
	if red.Voided() {
		out.Status = "voided"
		out.Void = &voidJSON{VoidedAt: red.VoidedAt.UTC(), ReturnedTiyn: int64(red.Returned),
			LapsedTiyn: int64(red.Lapsed()), FamilyRemainingTiyn: int64(red.VoidRemaining)}
	}
	return out
}

package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"socialwallet/wallet"
)

func cmdMerchant(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "add":
		return merchantAdd(ctx, e, args)
	case "list":
		return merchantList(ctx, e, args)
	case "rotate-key":
		return merchantByID(ctx, e, "rotate-key", args, `Issues a new API key for the merchant and prints it once; the old key stops
working at once.`, func(ctx context.Context, svc *wallet.Service, id int64) error {
			key, err := svc.RotateMerchantKey(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "merchant %d\napi key (shown once; hand it to the store): %s\n", id, key)
			return nil
		})
	case "disable":
		return merchantByID(ctx, e, "disable", args, `Disables the merchant: its key stops working at once; its purchases stay.`,
			func(ctx context.Context, svc *wallet.Service, id int64) error {
				if err := svc.DisableMerchant(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "merchant %d disabled\n", id)
				return nil
			})
	default:
		const usage = "usage: socialwallet merchant add|list|rotate-key ID|disable ID  (--help on each)"
		if sub == "-h" || sub == "--help" || sub == "-help" {
			fmt.Fprintln(e.stdout, usage)
			return nil
		}
		fmt.Fprintln(e.stderr, usage)
		return exitError{2, errSilent}
	}
}

func merchantAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "merchant add", "--name NAME --city ID --address TEXT --lat LAT --lon LON --discount PERCENT",
		`Registers a participating store and prints its id and API key. The key is
shown once (only its hash is stored): hand it to the store. The discount may
not exceed the programme's maximum (15 % in the pilot).`)
	name := fs.String("name", "", "the store's name as shoppers know it (required)")
	city := fs.String("city", "", "city id from the programme, e.g. kokshetau (required)")
	address := fs.String("address", "", "street address")
	lat := fs.Float64("lat", 0, "latitude, for the nearest-stores list")
	lon := fs.Float64("lon", 0, "longitude")
	discount := fs.String("discount", "", "discount on СЗПТ in percent, e.g. 15 or 12.5 (required)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if *name == "" || *city == "" || *discount == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	bp, err := wallet.ParsePercent(*discount)
	if err != nil {
		return exitError{2, userError(err)}
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := e.service(st)
	if err != nil {
		return err
	}
	id, key, err := svc.AddMerchant(ctx, wallet.Merchant{Name: *name, City: *city, Address: *address, Lat: *lat, Lon: *lon, DiscountBP: bp})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "merchant %d added\napi key (shown once; hand it to the store): %s\n", id, key)
	return nil
}

func merchantList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "merchant list", "", "Lists every merchant with its city, discount and state.")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	ms, err := st.ListMerchants(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "id\tname\tcity\tdiscount\tstate\taddress")
	for _, m := range ms {
		state := "active"
		if !m.Active() {
			state = "disabled"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d.%02d %%\t%s\t%s\n", m.ID, m.Name, m.City, m.DiscountBP/100, m.DiscountBP%100, state, m.Address)
	}
	return w.Flush()
}

func merchantByID(ctx context.Context, e *env, name string, args []string, doc string,
	do func(context.Context, *wallet.Service, int64) error) error {
	fs := newFlags(e, "merchant "+name, "ID", doc)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return exitError{2, fmt.Errorf("merchant id %q is not a number", fs.Arg(0))}
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := e.service(st)
	if err != nil {
		return err
	}
	return userError(do(ctx, svc, id))
}

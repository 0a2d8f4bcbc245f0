// Package wallet is the domain of the social wallet: families and members of the
// АСП registry, monthly vouchers and their periods, money, the programme rules,
// coded errors, IIN and phone validation, and the Service whose methods are the
// use cases. It imports only the standard library; storage, Telegram and HTTP
// live in adapters that implement the small interfaces declared here.
package wallet

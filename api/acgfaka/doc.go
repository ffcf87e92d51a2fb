// Package acgfaka is the wire layer of acg-faka's shared-store protocol
// (店铺共享, /shared/*), which acg-faka shops and mcy-shop's "异次元V3.0货源接入"
// plugin use to buy from an upstream: the form body read as PHP reads it,
// the md5 form signature, each endpoint's fields, and the exact JSON of
// every answer; and the shared store itself (Upstream), which serves those
// endpoints over the order engine: a trade is answered in its own request,
// with the keys when its order settles within the shop's sync window
// (docs/acgfaka.md).
//
// A call is signed but not timestamped, and acg-faka sends its app_key in
// clear in the body: whoever sees a request can make more. The key is
// never logged and never put in an error; Form prints names only.
package acgfaka

// The version the serving routes report (GET /v2, GET /version): Slipway's, as in package.json (a
// test keeps them equal).
export const SERVER_VERSION = "0.1.0";

require("node:http")
  .createServer((req, res) => res.end(req.url === "/healthz" ? "ok" : `${process.env.GREETING}\n`))
  .listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`${process.env.GREETING} on ${process.env.PORT}`));

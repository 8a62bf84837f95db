-- wrk: POST an Open Inference Protocol request read from BODY_FILE, with a bearer token (TOKEN). With
-- HEADER_LENGTH set, the body is binary tensor data (Inference-Header-Content-Length); else JSON.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
local length = os.getenv("HEADER_LENGTH")
if length and length ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = length
  wrk.headers["Content-Type"] = "application/octet-stream"
else
  wrk.headers["Content-Type"] = "application/json"
end

-- wrk script: books durable movements, each a receipt of one unit of a SKU
-- from $SKUS_FILE at location LOAD, as the owner token $TOKEN; counts
-- non-2xx answers (benches/wrk-common.lua).
items = {}
for line in io.lines(os.getenv("SKUS_FILE")) do
  items[#items + 1] = line
end
local token = os.getenv("TOKEN")

function make_request(sku)
  local body = string.format(
    '{"kind":"receive","location":"LOAD","lines":[{"sku":"%s","quantity":"1"}]}', sku)
  return wrk.format("POST", "/api/v1/movements", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk-common.lua")

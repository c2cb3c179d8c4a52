-- wrk script: books durable movements, each a receipt of one unit of a SKU
-- from $SKUS_FILE at location LOAD, as the owner token $TOKEN; counts
-- non-2xx answers.
local skus = {}
for line in io.lines(os.getenv("SKUS_FILE")) do
  skus[#skus + 1] = line
end
local token = os.getenv("TOKEN")
local counter = 0
local errors = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end

function init(args)
  i = offset or 0
end

function request()
  i = i + 1
  local body = string.format(
    '{"kind":"receive","location":"LOAD","lines":[{"sku":"%s","quantity":"1"}]}',
    skus[(i % #skus) + 1])
  return wrk.format("POST", "/api/v1/movements", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n",
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end

-- What the wrk scripts share, loaded by each after it has set `items` (the
-- list it walks) and `make_request(item)`. Threads start at evenly spaced
-- places in the list (THREADS is wrk's -t, default 2), so no item is sent
-- twice before the list wraps around. Answers outside 2xx are counted per
-- thread, and done() prints them with wrk's socket errors as
-- "non-2xx or socket errors: N", the line the benchmark scripts check.
local threads = {}
local spread = tonumber(os.getenv("THREADS") or "2")

function setup(thread)
  thread:set("offset", #threads * math.floor(#items / spread))
  threads[#threads + 1] = thread
end

function init(args)
  i = offset or 0
  errors = 0
end

function request()
  i = i + 1
  return make_request(items[(i % #items) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  io.write(string.format("non-2xx or socket errors: %d\n", failed))
end

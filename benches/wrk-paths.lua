-- wrk script: sends the request paths listed in $PATHS_FILE in turn, each
-- thread starting at a different place, and counts non-2xx answers.
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do
  paths[#paths + 1] = line
end
local counter = 0
local errors = 0
-- Threads start at evenly spaced places in the list (THREADS is wrk's -t,
-- default 2), so no path is sent twice before the list wraps around.
local threads = tonumber(os.getenv("THREADS") or "2")

function setup(thread)
  thread:set("offset", counter * math.floor(#paths / threads))
  counter = counter + 1
end

function init(args)
  i = offset or 0
end

function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
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

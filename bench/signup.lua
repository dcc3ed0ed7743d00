-- wrk script: durable signups with attribution, each with a unique external_id.
-- The referrers' codes come from the environment: KITH_BENCH_CODES (comma-separated; each
-- signup takes the next one, so signups spread evenly over the referrers) or KITH_BENCH_CODE
-- (one referrer for every signup).
local counter = 0
local thread_id = 0
local codes = {}
local key = os.getenv("KITH_BENCH_KEY") or ""
local prefix = os.getenv("KITH_BENCH_PREFIX") or "b"

for c in string.gmatch(os.getenv("KITH_BENCH_CODES") or os.getenv("KITH_BENCH_CODE") or "NONE-0000",
    "[^,]+") do
    codes[#codes + 1] = c
end

function setup(thread)
    thread:set("id", thread_id)
    thread_id = thread_id + 1
end

function init(args)
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
    counter = counter + 1
    local code = codes[(counter * 7 + id) % #codes + 1]
    local body = string.format(
        '{"external_id":"%s-%d-%d","email":"p%d.%d@example.org","first_name":"Sam","ref":"%s","ip":"203.0.113.%d"}',
        prefix, id, counter, id, counter, code, counter % 250)
    return wrk.format(nil, "/v1/signups", nil, body)
end

statuses = {}
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    io.write(string.format("p99_us %d\n", latency:percentile(99)))
end

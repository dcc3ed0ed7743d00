-- wrk script: link visits from many people. Each request comes from its own client address,
-- sent as X-Forwarded-For (kith runs with --trusted-proxies 127.0.0.1/32), because the contract
-- counts at most 30 clicks a minute from one address on one code: with one address, nearly
-- every visit would be redirected without being recorded. nginx ignores the header.
local counter = 0
local thread_id = 0
local path = os.getenv("KITH_BENCH_PATH") or "/r/NONE-0000"

function setup(thread)
    thread:set("id", thread_id)
    thread_id = thread_id + 1
end

function request()
    counter = counter + 1
    local n = counter * 4 + id -- up to 4 wrk threads, each its own addresses
    local xff = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
        math.floor(n / 256) % 256, n % 256)
    return wrk.format("GET", path, {["X-Forwarded-For"] = xff}, nil)
end

-- wrk script for bench/pg.sh: durable signups with attribution, each with a unique external_id,
-- spread over the referrer codes in the file KITH_BENCH_CODES (one code a line; a
-- file with one code is the one-referrer case). Prints p50/p99 latency and how many
-- signups were answered 201 (each must be in the database).
local counter = 0
local thread_id = 0
local key = os.getenv("KITH_BENCH_KEY") or ""
local prefix = os.getenv("KITH_BENCH_PREFIX") or "b"
local codes = {}
local threads = {}
created = 0 -- a global: done() reads it from each thread
-- First names vary, as people's do: every code draws its prefix from the first name, and one
-- name for everybody would fill that prefix's 10,000 codes within the run.
local names = {"Sam", "Alex", "Maria", "John", "Wei", "Fatima", "Olga", "Ravi", "Lena", "Tom",
    "Ana", "Kenji", "Nia", "Omar", "Ida", "Paul", "Rosa", "Ben", "Chen", "Eva", "Hugo", "Iris",
    "Jon", "Kira", "Leo", "Mia", "Nils", "Oona", "Pia", "Raj", "Sara", "Timo"}

function setup(thread)
    thread:set("id", thread_id)
    table.insert(threads, thread)
    thread_id = thread_id + 1
end

function init(args)
    for line in io.lines(os.getenv("KITH_BENCH_CODES")) do
        codes[#codes + 1] = line
    end
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
    counter = counter + 1
    local code = codes[(counter + id * 7) % #codes + 1]
    local body = string.format(
        '{"external_id":"%s-%d-%d","email":"p%d.%d@example.org","first_name":"%s","ref":"%s","ip":"203.0.113.%d"}',
        prefix, id, counter, id, counter, names[counter % #names + 1], code, counter % 250)
    return wrk.format(nil, "/v1/signups", nil, body)
end

function response(status, headers, body)
    if status == 201 then
        created = created + 1
    end
end

function done(summary, latency, requests)
    local n = 0
    for _, t in ipairs(threads) do
        n = n + t:get("created")
    end
    io.write(string.format("p50_us %d\np99_us %d\ncreated %d\n", latency:percentile(50),
        latency:percentile(99), n))
end

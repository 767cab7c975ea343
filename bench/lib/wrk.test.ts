import { describe, expect, it } from 'vitest';
import { parseWrk } from './wrk.ts';

const sample = `Running 10s test @ http://127.0.0.1:3000/notes/1
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  30.00ms   90.00%
    Req/Sec     2.60k   200.00     3.00k    70.00%
  Latency Distribution
     50%    2.95ms
     75%    3.40ms
     90%    4.10ms
     99%  850.00us
  52000 requests in 10.00s, 20.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   5200.00
Transfer/sec:      2.00MB
`;

describe('parseWrk', () => {
  it('reads throughput, percentiles in any unit, totals and failures', () => {
    expect(parseWrk(sample)).toEqual({
      requests: 52000,
      rps: 5200,
      p50Ms: 2.95,
      p99Ms: 0.85,
      non2xx: 12,
      socketErrors: 0,
    });
  });
  it('refuses output it does not understand', () => {
    expect(() => parseWrk('wrk: connection refused')).toThrow(/unexpected output/);
  });
});

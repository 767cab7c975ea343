-- wrk script: POST a small note on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"bench","body":"a note written by the benchmark"}'

# One process type per stage of pipeline '{{PIPELINE}}' (foreman, honcho, Heroku-style).
# Scale a stage with its parallelism; stages exchange records through Kafka topics.
{{PROCESSES}}

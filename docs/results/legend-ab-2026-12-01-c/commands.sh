set -x
cd /work/main && PYTHONPATH=. .venv/bin/python -m benchmarks journeys --runs 3 --checks 3 --only handwriting --out /work/notes/ab_main1.json
cd /work/wip && PYTHONPATH=. .venv/bin/python -m benchmarks journeys --runs 3 --checks 3 --only handwriting --out /work/notes/ab_wip1.json
cd /work/main && PYTHONPATH=. .venv/bin/python -m benchmarks journeys --runs 3 --checks 3 --only handwriting --out /work/notes/ab_main2.json
cd /work/wip && PYTHONPATH=. .venv/bin/python -m benchmarks journeys --runs 3 --checks 3 --only handwriting --out /work/notes/ab_wip2.json

# The testbed: `make eval` builds the data centre in namespaces, runs the
# paper's experiments on it (at most 10 minutes), then the server concurrency
# models (testbed/models.sh, about 4 minutes) and the message-queue scenarios
# (testbed/mq.sh, about 4 minutes), and writes docs/results.md (the paper's
# tables, then "Accuracy per server model", then "Message-queue
# trajectories"), docs/results.json, docs/results-models.json and
# docs/results-mq.json. `make eval-models` and `make eval-mq` run one
# experiment alone and replace only its section of docs/results.md. Needs
# root and BPF, like the integration tests.
eval: all
	@scripts/deps.sh test
	@testbed/testbed.sh eval --out $(BUILD)/testbed/eval
	@testbed/models.sh eval --out $(BUILD)/testbed/models-eval
	@testbed/mq.sh eval --out $(BUILD)/testbed/mq-eval
	@cp $(BUILD)/testbed/eval/results.md docs/results.md
	@testbed/evaluate_models.py splice $(BUILD)/testbed/models-eval/results.md docs/results.md
	@testbed/evaluate_mq.py splice $(BUILD)/testbed/mq-eval/results.md docs/results.md
	@cp $(BUILD)/testbed/eval/results.json docs/results.json
	@cp $(BUILD)/testbed/models-eval/results.json docs/results-models.json
	@cp $(BUILD)/testbed/mq-eval/results.json docs/results-mq.json
	@echo "eval: docs/results.md, docs/results.json, docs/results-models.json, docs/results-mq.json"

eval-models: all
	@scripts/deps.sh test
	@testbed/models.sh eval --out $(BUILD)/testbed/models-eval
	@testbed/evaluate_models.py splice $(BUILD)/testbed/models-eval/results.md docs/results.md
	@cp $(BUILD)/testbed/models-eval/results.json docs/results-models.json
	@echo "eval-models: docs/results.md (its models section), docs/results-models.json"

eval-mq: all
	@scripts/deps.sh test
	@testbed/mq.sh eval --out $(BUILD)/testbed/mq-eval
	@testbed/evaluate_mq.py splice $(BUILD)/testbed/mq-eval/results.md docs/results.md
	@cp $(BUILD)/testbed/mq-eval/results.json docs/results-mq.json
	@echo "eval-mq: docs/results.md (its message-queue section), docs/results-mq.json"

.PHONY: eval-models eval-mq

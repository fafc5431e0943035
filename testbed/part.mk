# The testbed: `make eval` builds the data centre in namespaces, runs the
# paper's experiments on it (at most 10 minutes), then the server concurrency
# models (testbed/models.sh, about 4 minutes), and writes docs/results.md (the
# paper's tables, then "Accuracy per server model"), docs/results.json and
# docs/results-models.json. `make eval-models` runs the models alone and
# replaces only their section of docs/results.md. Needs root and BPF, like the
# integration tests.
eval: all
	@scripts/deps.sh test
	@testbed/testbed.sh eval --out $(BUILD)/testbed/eval
	@testbed/models.sh eval --out $(BUILD)/testbed/models-eval
	@cp $(BUILD)/testbed/eval/results.md docs/results.md
	@testbed/evaluate_models.py splice $(BUILD)/testbed/models-eval/results.md docs/results.md
	@cp $(BUILD)/testbed/eval/results.json docs/results.json
	@cp $(BUILD)/testbed/models-eval/results.json docs/results-models.json
	@echo "eval: docs/results.md, docs/results.json, docs/results-models.json"

eval-models: all
	@scripts/deps.sh test
	@testbed/models.sh eval --out $(BUILD)/testbed/models-eval
	@testbed/evaluate_models.py splice $(BUILD)/testbed/models-eval/results.md docs/results.md
	@cp $(BUILD)/testbed/models-eval/results.json docs/results-models.json
	@echo "eval-models: docs/results.md (its last section), docs/results-models.json"

.PHONY: eval-models

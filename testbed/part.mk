# The testbed: `make eval` builds the data centre in namespaces, runs the
# paper's experiments on it (at most 10 minutes) and writes docs/results.md
# and docs/results.json. Needs root and BPF, like the integration tests.
eval: all
	@scripts/deps.sh test
	@testbed/testbed.sh eval --out $(BUILD)/testbed/eval
	@cp $(BUILD)/testbed/eval/results.md docs/results.md
	@cp $(BUILD)/testbed/eval/results.json docs/results.json
	@echo "eval: docs/results.md, docs/results.json"

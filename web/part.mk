# The dashboard: sources in web/, bundled by vite into build/web, where the
# server finds its web root next to build/weft. npm packages come from the
# lock file at build time (scripts/deps.sh test, or the rule below); the
# browser fetches nothing from anywhere but the server.
WEB_SRCS := web/index.html web/vite.config.js web/package.json web/package-lock.json \
	    $(shell find web/src -type f 2>/dev/null)

$(BUILD)/web/index.html: $(WEB_SRCS) web/node_modules/.package-lock.json
	cd web && npx --no-install vite build --logLevel warn
	@touch $@

# npm writes node_modules/.package-lock.json on every install.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

.PHONY: web
web: $(BUILD)/web/index.html
extras:: $(BUILD)/web/index.html

# `make` builds the dashboard with the binary (scripts/deps.sh build
# installs Node.js and the packages).
all: $(BUILD)/web/index.html

# The load generator's test server: a standalone program, not part of weft.
extras:: $(BUILD)/load_server

$(BUILD)/load_server: tests/integration/load_server.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

# The store's test and benchmark tool: synthetic trajectories written through
# the store API, and a bare API server over a database (tests/tools/store_fill.c).
$(BUILD)/store_fill: tests/tools/store_fill.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

extras:: $(BUILD)/store_fill

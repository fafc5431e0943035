package weftbench;

/* The small method whose calls are timed. */
public class Small {
    static long inc(long x) {
        return x * 31 + 7;
    }
}

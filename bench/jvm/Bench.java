package weftbench;

/*
 * Overhead of the JVM agent: calls Small.inc(x) in a loop and prints the
 * best of several rounds in nanoseconds per call. Run it with the agent
 * filtering weftbench.Small.inc, with the agent and no filter, and without
 * the agent (bench/jvm_overhead.sh).
 *   java weftbench.Bench CALLS_PER_ROUND ROUNDS [clock]
 * With "clock" it times System.nanoTime() itself instead: the probe reads
 * the clock twice per call, which bounds what an instrumented call costs.
 */
public class Bench {
    public static void main(String[] args) {
        long calls = args.length > 0 ? Long.parseLong(args[0]) : 20_000_000L;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        boolean clock = args.length > 2 && args[2].equals("clock");
        long sink = 0;
        double best = Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            if (clock)
                for (long i = 0; i < calls; i++)
                    sink += System.nanoTime();
            else {
                /* A chain: each call needs the previous result, so the JIT
                 * can neither vectorize nor fold the loop away. */
                long x = r;
                for (long i = 0; i < calls; i++)
                    x = Small.inc(x);
                sink += x;
            }
            long t1 = System.nanoTime();
            double ns = (double) (t1 - t0) / calls;
            if (r > 0 && ns < best) /* round 0 is warm-up */
                best = ns;
        }
        System.out.printf("ns_per_call %.3f sink %d%n", best, sink);
    }
}

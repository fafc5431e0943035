package com.shop;

import java.io.BufferedReader;
import java.io.InputStreamReader;

/*
 * Test application with known behaviour for the JVM agent's tests. Reads
 * commands on stdin, one a line, runs each on the main thread and answers
 * "done <command>" on stdout once it has finished:
 *   work N    Cart.work(N): N calls of Cart.slow(), which sleeps 5 ms;
 *             answers "done work NS" with the time the N calls took
 *   javac SRC DIR   compiles SRC into DIR with the JDK's compiler in this JVM;
 *             answers "done javac RC"
 *   other N   N calls of com.other.Util.helper() (outside the usual filter)
 *   boom      Cart.boom() sleeps 2 ms then throws; the exception is caught
 *   mixed     Cart.mixed(k) for k = 0..99: branches, a switch, a loop, try/catch
 *   threads N N threads that each call Util.helper() 5 times and exit
 *   spin N    N million calls of Util.tiny(); answers "done spin PS",
 *             picoseconds per call
 *   hammer MS two threads call Cart.mixed() for MS milliseconds, checking
 *             every result; answers "done hammer WRONG_RESULTS"
 *   gc        System.gc()
 *   quit      exit 0
 * It prints "ready" first.
 */
public class Shop {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        System.out.println("ready");
        System.out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            int n = w.length > 1 && !w[0].equals("javac") ? Integer.parseInt(w[1]) : 0;
            long r = 0;
            switch (w[0]) {
            case "work": {
                long t0 = System.nanoTime();
                Cart.work(n);
                r = System.nanoTime() - t0;
                break;
            }
            case "javac":
                r = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", w[2], w[1]);
                break;
            case "other": for (int i = 0; i < n; i++) r += com.other.Util.helper(i); break;
            case "boom":
                try {
                    Cart.boom();
                } catch (IllegalStateException e) {
                    r = 1;
                }
                break;
            case "mixed": for (int k = 0; k < 100; k++) r += Cart.mixed(k); break;
            case "threads": {
                Thread[] t = new Thread[n];
                for (int i = 0; i < n; i++) {
                    t[i] = new Thread(() -> {
                        for (int k = 0; k < 5; k++)
                            com.other.Util.helper(k);
                    });
                    t[i].start();
                }
                for (Thread x : t)
                    x.join();
                break;
            }
            case "spin": {
                long calls = n * 1_000_000L, sink = 0, t0 = System.nanoTime();
                for (long i = 0; i < calls; i++)
                    sink += com.other.Util.tiny(i);
                r = (System.nanoTime() - t0) * 1000 / calls;
                if (sink == 42)
                    System.out.println("unlikely");
                break;
            }
            case "hammer": {
                long end = System.nanoTime() + n * 1_000_000L;
                long[] bad = new long[2];
                Thread[] t = new Thread[2];
                for (int i = 0; i < 2; i++) {
                    final int me = i;
                    t[i] = new Thread(() -> {
                        while (System.nanoTime() < end) {
                            long sum = 0;
                            for (int k = 0; k < 100; k++)
                                sum += Cart.mixed(k);
                            if (sum != 63681)
                                bad[me]++;
                        }
                    });
                    t[i].start();
                }
                for (Thread x : t)
                    x.join();
                r = bad[0] + bad[1];
                break;
            }
            case "gc": System.gc(); break;
            case "quit": System.out.println("done quit"); return;
            default: System.out.println("unknown " + w[0]); continue;
            }
            System.out.println("done " + w[0] + " " + r);
            System.out.flush();
        }
    }
}

package weft;

/*
 * The recording side of the JVM agent. Instrumented methods call enter(id) at
 * entry and exit(id) or exitThrow(id) on the way out; ids are array indices
 * fixed when the method was instrumented. Each thread records into its own
 * Probe (no locks, no sharing on the hot path); the agent reads all of them
 * through snapshot() and drain() from its control thread. Those reads race
 * with the writers: a figure may be one call behind, never corrupt memory.
 *
 * This class is defined into the bootstrap loader from bytes the agent
 * carries, so it must stay one class file: no inner classes, no lambdas.
 */
public final class Probe {
    /** Per-method stride in stat[]: calls, total, min, max, thrown, histogram. */
    static final int NB = 40;
    static final int S = 5 + NB;
    static final int RING = 4096; /* calls kept per thread for tracing */

    private static final ThreadLocal<Probe> TL = new ThreadLocal<Probe>();
    private static Probe[] all = new Probe[16]; /* guarded by Probe.class */
    private static int nall;
    private static Probe retired; /* tid 0: figures of threads that have exited */
    static volatile boolean trace;

    final long tid;
    final Thread thread; /* null for retired */
    boolean reported; /* in a snapshot since it was created; guarded by Probe.class */
    long[] starts = new long[64];
    int[] ids = new int[64];
    int depth;
    long unbalanced;
    long[] stat = new long[S * 16];
    long[] ring; /* id, start, end; allocated when tracing first records */
    volatile long written; /* calls ever put in the ring */
    long read; /* by the draining thread only */

    private Probe(long tid, Thread thread) {
        this.tid = tid;
        this.thread = thread;
    }

    /** Linux thread id of the calling thread (registered by the agent). */
    private static native int tid();

    private static Probe attach() {
        Probe p = new Probe(tid(), Thread.currentThread());
        TL.set(p);
        synchronized (Probe.class) {
            if (nall == all.length) {
                Probe[] a = new Probe[nall * 2];
                System.arraycopy(all, 0, a, 0, nall);
                all = a;
            }
            all[nall++] = p;
        }
        return p;
    }

    public static void enter(int id) {
        Probe p = TL.get();
        if (p == null)
            p = attach();
        int d = p.depth;
        if (d == p.ids.length)
            p.grow();
        p.ids[d] = id;
        p.depth = d + 1;
        p.starts[d] = System.nanoTime();
    }

    public static void exit(int id) {
        long now = System.nanoTime();
        Probe p = TL.get();
        if (p != null)
            p.done(id, now, 0);
    }

    public static void exitThrow(int id) {
        long now = System.nanoTime();
        Probe p = TL.get();
        if (p != null)
            p.done(id, now, 1);
    }

    private void grow() {
        int n = ids.length * 2;
        long[] s = new long[n];
        int[] i = new int[n];
        System.arraycopy(starts, 0, s, 0, depth);
        System.arraycopy(ids, 0, i, 0, depth);
        starts = s;
        ids = i;
    }

    private void done(int id, long now, int thrown) {
        int d = depth - 1;
        if (d < 0 || ids[d] != id) {
            /* An exit without its entry: only across a change of bytecode
             * while the frame ran. Find the entry or drop the sample. */
            while (d >= 0 && ids[d] != id)
                d--;
            unbalanced++;
            if (d < 0)
                return;
        }
        depth = d;
        long start = starts[d];
        long t = now - start;
        int b = id * S;
        long[] s = stat;
        if (b + S > s.length)
            s = growStat(b + S);
        long c = ++s[b];
        s[b + 1] += t;
        if (c == 1 || t < s[b + 2])
            s[b + 2] = t;
        if (t > s[b + 3])
            s[b + 3] = t;
        s[b + 4] += thrown;
        int k = 64 - Long.numberOfLeadingZeros(t);
        if (k >= NB)
            k = NB - 1;
        s[b + 5 + k]++;
        if (trace)
            record(id, start, now);
    }

    private long[] growStat(int need) {
        int n = stat.length * 2;
        while (n < need)
            n *= 2;
        long[] s = new long[n];
        System.arraycopy(stat, 0, s, 0, stat.length);
        stat = s;
        return s;
    }

    private void record(int id, long start, long end) {
        if (ring == null)
            ring = new long[RING * 3];
        long w = written;
        int i = (int) (w & (RING - 1)) * 3;
        ring[i] = id;
        ring[i + 1] = start;
        ring[i + 2] = end;
        written = w + 1;
    }

    /** Every thread's Probe, the retired figures first when there are some. */
    private static Probe[] threads() {
        synchronized (Probe.class) {
            int r = retired != null ? 1 : 0;
            Probe[] a = new Probe[nall + r];
            if (r == 1)
                a[0] = retired;
            System.arraycopy(all, 0, a, r, nall);
            return a;
        }
    }

    /*
     * Folds the threads that have exited, once a snapshot has reported them
     * and their calls are drained, into the retired figures (tid 0), so that
     * a JVM that makes short-lived threads does not keep one Probe each.
     */
    private static void retire() {
        synchronized (Probe.class) {
            int k = 0;
            for (int i = 0; i < nall; i++) {
                Probe p = all[i];
                if (p.reported && !p.thread.isAlive() && p.read == p.written) {
                    if (retired == null)
                        retired = new Probe(0, null);
                    retired.merge(p);
                } else
                    all[k++] = p;
            }
            for (int i = k; i < nall; i++)
                all[i] = null;
            nall = k;
        }
    }

    /* Adds the figures of a thread that has exited (it writes no more). */
    private void merge(Probe p) {
        long[] from = p.stat;
        if (from.length > stat.length)
            growStat(from.length);
        long[] s = stat;
        for (int b = 0; b + S <= from.length; b += S) {
            if (from[b] == 0)
                continue;
            if (s[b] == 0 || from[b + 2] < s[b + 2])
                s[b + 2] = from[b + 2];
            if (from[b + 3] > s[b + 3])
                s[b + 3] = from[b + 3];
            s[b] += from[b];
            s[b + 1] += from[b + 1];
            for (int k = 4; k < S; k++)
                s[b + k] += from[b + k];
        }
        unbalanced += p.unbalanced;
    }

    /**
     * Every thread's figures as one array: nthreads, then per thread tid,
     * unbalanced exits, length L of its stat array, and L values.
     */
    static long[] snapshot() {
        Probe[] a = threads();
        int n = 1;
        long[][] st = new long[a.length][];
        for (int i = 0; i < a.length; i++) {
            st[i] = a[i].stat;
            n += 3 + st[i].length;
        }
        long[] out = new long[n];
        int o = 0;
        out[o++] = a.length;
        for (int i = 0; i < a.length; i++) {
            out[o++] = a[i].tid;
            out[o++] = a[i].unbalanced;
            out[o++] = st[i].length;
            System.arraycopy(st[i], 0, out, o, st[i].length);
            o += st[i].length;
        }
        synchronized (Probe.class) {
            for (Probe p : a)
                p.reported = true;
        }
        retire();
        return out;
    }

    /**
     * Takes the calls recorded since the last drain: groups of id, tid,
     * start, end; the last element counts calls lost to ring overflow.
     */
    static long[] drain() {
        Probe[] a = threads();
        long total = 0;
        for (Probe p : a)
            if (p.ring != null)
                total += Math.min(p.written - p.read, RING);
        long[] out = new long[(int) total * 4 + 1];
        int o = 0;
        long lost = 0;
        for (Probe p : a) {
            if (p.ring == null)
                continue;
            long w = p.written;
            long from = Math.max(p.read, w - RING);
            lost += from - p.read;
            int start = o;
            for (long k = from; k < w && o + 4 < out.length; k++) {
                int i = (int) (k & (RING - 1)) * 3;
                out[o++] = p.ring[i];
                out[o++] = p.tid;
                out[o++] = p.ring[i + 1];
                out[o++] = p.ring[i + 2];
            }
            long copied = (o - start) / 4;
            /* Entries the writer may have overwritten while we copied. */
            long w2 = p.written;
            long firstSafe = w2 - RING;
            if (firstSafe > from) {
                long bad = Math.min(firstSafe - from, (o - start) / 4);
                System.arraycopy(out, start + (int) bad * 4, out, start, o - start - (int) bad * 4);
                o -= (int) bad * 4;
                lost += bad;
            }
            p.read = from + copied;
        }
        long[] r = new long[o + 1];
        System.arraycopy(out, 0, r, 0, o);
        r[o] = lost;
        return r;
    }

    /** Zeroes every thread's figures (racing writers may keep a call). */
    static void reset() {
        for (Probe p : threads()) {
            java.util.Arrays.fill(p.stat, 0);
            p.unbalanced = 0;
        }
    }
}

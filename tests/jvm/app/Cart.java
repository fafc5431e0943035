package com.shop;

/* Methods with known timing and control flow for the agent's tests. */
public class Cart {
    static void slow() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void work(int n) {
        for (int i = 0; i < n; i++)
            slow();
    }

    static void boom() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("boom");
    }

    /* Every kind of branch the rewriter must remap. */
    static long mixed(int k) {
        long r = 0;
        switch (k % 5) {
        case 0: r = 1; break;
        case 1: r = 2; break;
        case 2: return 3;
        case 3: r = k; break;
        default: r = -1;
        }
        switch (k * 1000) {
        case 0: r += 7; break;
        case 5000: r += 11; break;
        case 99000: return r + 13;
        default: break;
        }
        for (int i = 0; i < k; i++) {
            if ((i & 1) == 0)
                continue;
            r += i;
        }
        try {
            if (k == 50)
                throw new RuntimeException("x");
            String s = k > 10 ? "big" : null;
            r += s == null ? 0 : s.length();
        } catch (RuntimeException e) {
            r += 100;
        } finally {
            r += 1;
        }
        synchronized (Cart.class) {
            r ^= 5;
        }
        return r;
    }
}

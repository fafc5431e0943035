package com.other;

/* Outside the usual test filter. */
public class Util {
    public static long helper(int i) {
        return (long) i * 3 + 1;
    }

    public static long tiny(long i) {
        return i ^ (i >>> 3);
    }
}

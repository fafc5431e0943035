package com.other;

/* Outside the usual test filter. */
public class Util {
    public static long helper(int i) {
        return (long) i * 3 + 1;
    }
}

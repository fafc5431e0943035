package com.shop;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/*
 * An HTTP test application for weft profile's Java nodes: every GET /order
 * calls Orders.lookup() once and Orders.price() three times, on a pool of
 * four threads. Usage: Web PORT. Prints "listening" when ready.
 */
public class Web {
    public static void main(String[] args) throws Exception {
        HttpServer srv = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 64);
        srv.setExecutor(Executors.newFixedThreadPool(4));
        srv.createContext("/order", ex -> {
            long id = Orders.lookup(ex.getRequestURI().toString().length());
            long total = 0;
            for (int i = 0; i < 3; i++)
                total += Orders.price(id + i);
            byte[] body = ("order " + id + " total " + total + "\n").getBytes();
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        });
        srv.start();
        System.out.println("listening");
        System.out.flush();
    }
}

class Orders {
    static long lookup(long key) {
        long h = key;
        for (int i = 0; i < 20000; i++)
            h = h * 6364136223846793005L + 1442695040888963407L;
        return h & 0xffff;
    }

    static long price(long id) {
        long h = id;
        for (int i = 0; i < 5000; i++)
            h ^= h << 13 ^ h >>> 7 ^ h << 17;
        return h & 0xff;
    }
}

// The testbed's Java application tier: a small bookstore on the JDK's own
// HTTP server with a fixed thread pool, talking JDBC to PostgreSQL, RESP to
// Redis and HTTP to the orders tier, like the paper's JBoss tier.
//
//   java -cp build/testbed/apps:postgresql.jar Bookstore PORT PGHOST REDISHOST ORDERSURL LOG [THREADS]
//
// Every request carries a test id (X-Test-Id, also in the query string as
// tid=); the tier passes it downstream and appends one JSON line per request
// to LOG: the request it served and every call it made for it. That log is
// the ground truth; weft never reads it.
//
// Each pool thread opens its own database and cache connections when it is
// created, before any request, so no request pays for (or shows) a connect.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.sql.*;
import java.util.*;
import java.util.concurrent.*;

public class Bookstore {
	static String pgUrl, redisHost, ordersUrl;
	static PrintWriter log;

	/** Per-thread connections: one thread serves a request start to finish. */
	static final class Conns {
		Connection db;
		PreparedStatement product, buy;
		Socket redis;
		BufferedInputStream redisIn;
		OutputStream redisOut;
	}
	static final ThreadLocal<Conns> conns = new ThreadLocal<>();

	static Conns open() throws Exception {
		Conns c = new Conns();
		c.db = DriverManager.getConnection(pgUrl);
		c.product = c.db.prepareStatement("SELECT title, author, price FROM item WHERE id = ?");
		c.buy = c.db.prepareStatement("INSERT INTO orders (item_id, qty, status) VALUES (?, 1, 'new')");
		c.redis = new Socket(redisHost, 6379);
		c.redis.setTcpNoDelay(true);
		c.redisIn = new BufferedInputStream(c.redis.getInputStream());
		c.redisOut = c.redis.getOutputStream();
		return c;
	}

	/** One RESP command; returns the reply line without its type byte. */
	static String redis(Conns c, String... args) throws IOException {
		StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
		for (String a : args)
			sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
		c.redisOut.write(sb.toString().getBytes(StandardCharsets.UTF_8));
		c.redisOut.flush();
		String line = readLine(c.redisIn);
		if (line.startsWith("$") && !line.equals("$-1")) {
			String v = readLine(c.redisIn);
			return v;
		}
		return line.substring(1);
	}

	static String readLine(InputStream in) throws IOException {
		StringBuilder sb = new StringBuilder();
		int b;
		while ((b = in.read()) != -1 && b != '\n')
			if (b != '\r')
				sb.append((char) b);
		if (b == -1)
			throw new EOFException("redis closed");
		return sb.toString();
	}

	static String param(String query, String name, String dflt) {
		if (query == null)
			return dflt;
		for (String kv : query.split("&")) {
			int i = kv.indexOf('=');
			if (i > 0 && kv.substring(0, i).equals(name))
				return kv.substring(i + 1);
		}
		return dflt;
	}

	static String json(String s) {
		return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
	}

	static void handle(HttpExchange ex) throws IOException {
		String method = ex.getRequestMethod();
		URI uri = ex.getRequestURI();
		String target = uri.getRawPath() + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
		String q = uri.getRawQuery();
		String tid = ex.getRequestHeaders().getFirst("X-Test-Id");
		if (tid == null)
			tid = param(q, "tid", "");
		List<String[]> calls = new ArrayList<>();
		int status = 200;
		StringBuilder body = new StringBuilder();
		try {
			Conns c = conns.get();
			int id = Integer.parseInt(param(q, "id", "1"));
			switch (uri.getRawPath()) {
			case "/home":
				body.append("promo ").append(redis(c, "GET", "home:promo"));
				calls.add(new String[] {"cache", "REDIS GET"});
				break;
			case "/product":
				c.product.setInt(1, id);
				try (ResultSet rs = c.product.executeQuery()) {
					calls.add(new String[] {"db", "SELECT title, author, price FROM item WHERE id = $1"});
					while (rs.next())
						body.append(rs.getString(1)).append(" by ").append(rs.getString(2)).append(' ').append(rs.getBigDecimal(3));
				}
				body.append(" views ").append(redis(c, "INCR", "views:" + id));
				calls.add(new String[] {"cache", "REDIS INCR"});
				break;
			case "/buy":
				c.buy.setInt(1, id);
				c.buy.executeUpdate();
				calls.add(new String[] {"db", "INSERT INTO orders (item_id, qty, status) VALUES ($1, 1, 'new')"});
				String stock = "/stock?id=" + id + "&tid=" + tid;
				HttpURLConnection h = (HttpURLConnection) new URL(ordersUrl + stock).openConnection();
				h.setRequestProperty("X-Test-Id", tid);
				try (InputStream in = h.getInputStream()) {
					body.append("bought, stock ").append(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim());
				}
				calls.add(new String[] {"orders", "GET " + stock});
				if (h.getResponseCode() != 200)
					status = 502;
				break;
			default:
				status = 404;
			}
		} catch (Exception e) {
			status = 500;
			body.append(e);
		}
		byte[] out = body.append('\n').toString().getBytes(StandardCharsets.UTF_8);
		ex.sendResponseHeaders(status, out.length);
		try (OutputStream os = ex.getResponseBody()) {
			os.write(out);
		}
		StringBuilder line = new StringBuilder("{\"tid\":").append(json(tid)).append(",\"svc\":\"app\",\"req\":")
			.append(json(method + " " + target)).append(",\"status\":").append(status).append(",\"calls\":[");
		for (int i = 0; i < calls.size(); i++)
			line.append(i > 0 ? "," : "").append("{\"svc\":").append(json(calls.get(i)[0]))
				.append(",\"req\":").append(json(calls.get(i)[1])).append('}');
		synchronized (log) {
			log.println(line.append("]}"));
		}
	}

	public static void main(String[] a) throws Exception {
		int port = Integer.parseInt(a[0]);
		// prepareThreshold=0: every statement goes out as Parse+Bind+Execute,
		// the same messages each time (no switch to named statements after 5 uses).
		pgUrl = "jdbc:postgresql://" + a[1] + ":5432/bookstore?user=bookstore&prepareThreshold=0";
		redisHost = a[2];
		ordersUrl = a[3];
		log = new PrintWriter(new BufferedWriter(new FileWriter(a[4], true)));
		int threads = a.length > 5 ? Integer.parseInt(a[5]) : 32;
		ThreadFactory tf = r -> new Thread(() -> {
			try {
				conns.set(open());
			} catch (Exception e) {
				System.err.println("bookstore: cannot connect: " + e);
				System.exit(1);
			}
			r.run();
		});
		ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
			new LinkedBlockingQueue<>(), tf);
		pool.prestartAllCoreThreads();
		HttpServer srv = HttpServer.create(new InetSocketAddress(port), 512);
		srv.createContext("/", ex -> {
			try {
				handle(ex);
			} catch (Throwable t) {
				ex.close();
			}
		});
		srv.setExecutor(pool);
		Executors.newSingleThreadScheduledExecutor(r -> {
			Thread t = new Thread(r);
			t.setDaemon(true);
			return t;
		}).scheduleAtFixedRate(() -> {
			synchronized (log) {
				log.flush();
			}
		}, 200, 200, TimeUnit.MILLISECONDS);
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			synchronized (log) {
				log.flush();
			}
		}));
		srv.start();
		System.err.println("bookstore: listening on " + port + " with " + threads + " threads");
	}
}

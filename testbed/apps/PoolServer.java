// The models experiment's Java tier: ONE reader thread (an NIO selector)
// accepts connections and reads every HTTP request from them, then hands the
// request to a fixed ThreadPoolExecutor (LinkedBlockingQueue); the worker
// talks JDBC to PostgreSQL and RESP to Redis (a minimal client over a plain
// Socket) and writes the HTTP response itself. The connection then goes back
// to the reader for its next request (keep-alive). The thread that reads a
// request is never the one that makes its calls.
//
//   java -cp build/testbed/apps:postgresql.jar PoolServer PORT PGHOST REDISHOST LOG [WORKERS]
//
// The request /java?id=I&k=K&tid=T makes, in this order,
//   SELECT 'T' AS tid, title, price FROM item WHERE id = $1          (PostgreSQL)
//   GET item:I                                                       ("REDIS GET")
//   INCR hits:T                           when K >= 2               ("REDIS INCR")
//   SELECT 'T' AS tid, count(*) FROM orders WHERE item_id = $1   when K = 3
// (the test id in the statements' text makes them differ between requests)
// and appends one JSON line to LOG: the test id, the request served and the
// calls made for it, statements as PostgreSQL receives them. That log is the
// ground truth; weft never reads it.
//
// Each worker opens its database and cache connections when it is created,
// before any request.
import java.io.*;
import java.net.*;
import java.nio.ByteBuffer;
import java.nio.channels.*;
import java.nio.charset.StandardCharsets;
import java.sql.*;
import java.util.*;
import java.util.concurrent.*;

public class PoolServer {
	static String pgUrl, redisHost;
	static PrintWriter log;
	static Selector selector;
	static final ConcurrentLinkedQueue<SelectionKey> rearm = new ConcurrentLinkedQueue<>();

	static final class Conns {
		Connection db;
		Socket redis;
		BufferedInputStream redisIn;
		OutputStream redisOut;
	}
	static final ThreadLocal<Conns> conns = new ThreadLocal<>();

	/** A connection's bytes read so far, not yet a whole request. */
	static final class Conn {
		final SocketChannel ch;
		final ByteArrayOutputStream buf = new ByteArrayOutputStream();
		Conn(SocketChannel ch) {
			this.ch = ch;
		}
	}

	static Conns open() throws Exception {
		Conns c = new Conns();
		c.db = DriverManager.getConnection(pgUrl);
		c.redis = new Socket(redisHost, 6379);
		c.redis.setTcpNoDelay(true);
		c.redisIn = new BufferedInputStream(c.redis.getInputStream());
		c.redisOut = c.redis.getOutputStream();
		return c;
	}

	static String redis(Conns c, String... args) throws IOException {
		StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
		for (String a : args)
			sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
		c.redisOut.write(sb.toString().getBytes(StandardCharsets.UTF_8));
		c.redisOut.flush();
		String line = readLine(c.redisIn);
		if (line.startsWith("-"))
			throw new IOException(line);
		if (line.startsWith("$") && !line.equals("$-1"))
			return readLine(c.redisIn);
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

	/** A statement with the test id as a literal; ids are [A-Za-z0-9-] only. */
	static String sql(String tid, String rest) {
		if (!tid.matches("[A-Za-z0-9-]*"))
			throw new IllegalArgumentException("bad test id");
		return "SELECT '" + tid + "' AS tid, " + rest;
	}

	/** Runs on a worker: the calls, the response, the log line. */
	static void serve(SelectionKey key, Conn conn, String target) {
		String path = target, query = null;
		int qi = target.indexOf('?');
		if (qi >= 0) {
			path = target.substring(0, qi);
			query = target.substring(qi + 1);
		}
		String tid = param(query, "tid", "");
		List<String[]> calls = new ArrayList<>();
		int status = 200;
		StringBuilder body = new StringBuilder("java");
		try {
			Conns c = conns.get();
			int id = Integer.parseInt(param(query, "id", "1"));
			int k = Integer.parseInt(param(query, "k", "1"));
			if (!path.equals("/java"))
				throw new IllegalArgumentException("no such path " + path);
			String s1 = sql(tid, "title, price FROM item WHERE id = ?");
			try (PreparedStatement ps = c.db.prepareStatement(s1)) {
				ps.setInt(1, id);
				calls.add(new String[] {"db", s1.replace("?", "$1")});
				try (ResultSet rs = ps.executeQuery()) {
					while (rs.next())
						body.append(' ').append(rs.getString(2));
				}
			}
			calls.add(new String[] {"cache", "REDIS GET"});
			body.append(' ').append(redis(c, "GET", "item:" + id));
			if (k >= 2) {
				calls.add(new String[] {"cache", "REDIS INCR"});
				body.append(' ').append(redis(c, "INCR", "hits:" + tid));
			}
			if (k >= 3) {
				String s2 = sql(tid, "count(*) FROM orders WHERE item_id = ?");
				try (PreparedStatement ps = c.db.prepareStatement(s2)) {
					ps.setInt(1, id);
					calls.add(new String[] {"db", s2.replace("?", "$1")});
					try (ResultSet rs = ps.executeQuery()) {
						while (rs.next())
							body.append(" orders ").append(rs.getInt(2));
					}
				}
			}
		} catch (Exception e) {
			status = 500;
			body.append(' ').append(e);
		}
		byte[] b = body.append('\n').toString().getBytes(StandardCharsets.UTF_8);
		byte[] head = ("HTTP/1.1 " + status + (status == 200 ? " OK" : " Error") + "\r\nContent-Type: text/plain\r\n"
			+ "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8);
		ByteBuffer out = ByteBuffer.allocate(head.length + b.length).put(head).put(b).flip();
		try {
			while (out.hasRemaining())
				if (conn.ch.write(out) == 0)
					Thread.onSpinWait();
		} catch (IOException e) {
			close(key);
			return;
		} finally {
			StringBuilder line = new StringBuilder("{\"tid\":").append(json(tid)).append(",\"svc\":\"javapool\",\"req\":")
				.append(json("GET " + target)).append(",\"status\":").append(status).append(",\"calls\":[");
			for (int i = 0; i < calls.size(); i++)
				line.append(i > 0 ? "," : "").append("{\"svc\":").append(json(calls.get(i)[0]))
					.append(",\"req\":").append(json(calls.get(i)[1])).append('}');
			synchronized (log) {
				log.println(line.append("]}"));
			}
		}
		// Back to the reader for the next request on this connection.
		rearm.add(key);
		selector.wakeup();
	}

	static void close(SelectionKey key) {
		key.cancel();
		try {
			key.channel().close();
		} catch (IOException e) {
		}
	}

	/** The reader: one thread, every connection, every request. */
	static void readLoop(ServerSocketChannel server, ThreadPoolExecutor pool) throws IOException {
		ByteBuffer rb = ByteBuffer.allocate(16384);
		while (true) {
			selector.select();
			for (SelectionKey k; (k = rearm.poll()) != null;)
				if (k.isValid())
					k.interestOps(SelectionKey.OP_READ);
			Iterator<SelectionKey> it = selector.selectedKeys().iterator();
			while (it.hasNext()) {
				SelectionKey key = it.next();
				it.remove();
				if (!key.isValid())
					continue;
				if (key.isAcceptable()) {
					SocketChannel ch;
					while ((ch = server.accept()) != null) {
						ch.configureBlocking(false);
						ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
						SelectionKey ck = ch.register(selector, SelectionKey.OP_READ);
						ck.attach(new Conn(ch));
					}
					continue;
				}
				if (!key.isReadable())
					continue;
				Conn conn = (Conn) key.attachment();
				rb.clear();
				int n;
				try {
					n = conn.ch.read(rb);
				} catch (IOException e) {
					n = -1;
				}
				if (n < 0) {
					close(key);
					continue;
				}
				conn.buf.write(rb.array(), 0, n);
				String text = conn.buf.toString(StandardCharsets.ISO_8859_1);
				int end = text.indexOf("\r\n\r\n");
				if (end < 0)
					continue;
				// GET only, no body, no pipelining: the client waits for each answer.
				conn.buf.reset();
				String[] line = text.substring(0, text.indexOf("\r\n")).split(" ");
				String target = line.length > 1 ? line[1] : "/";
				key.interestOps(0); // the worker answers, then re-arms
				pool.execute(() -> serve(key, conn, target));
			}
		}
	}

	public static void main(String[] a) throws Exception {
		int port = Integer.parseInt(a[0]);
		// prepareThreshold=0: every statement goes out as Parse+Bind+Execute.
		pgUrl = "jdbc:postgresql://" + a[1] + ":5432/bookstore?user=bookstore&prepareThreshold=0";
		redisHost = a[2];
		log = new PrintWriter(new BufferedWriter(new FileWriter(a[3], true)));
		int workers = a.length > 4 ? Integer.parseInt(a[4]) : 8;
		ThreadFactory tf = r -> new Thread(() -> {
			try {
				conns.set(open());
			} catch (Exception e) {
				System.err.println("javapool: cannot connect: " + e);
				System.exit(1);
			}
			r.run();
		});
		ThreadPoolExecutor pool = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.SECONDS,
			new LinkedBlockingQueue<>(), tf);
		pool.prestartAllCoreThreads();
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
		selector = Selector.open();
		ServerSocketChannel server = ServerSocketChannel.open();
		server.bind(new InetSocketAddress(port), 512);
		server.configureBlocking(false);
		server.register(selector, SelectionKey.OP_ACCEPT);
		System.err.println("javapool: listening on " + port + " with one reader and " + workers + " workers");
		readLoop(server, pool);
	}
}

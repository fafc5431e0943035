// The models experiment's Go tier: net/http from the standard library, a
// goroutine per request on Go's scheduler (goroutines move between OS
// threads), a pool of Redis connections with a minimal RESP client written
// here, and the default http.Client (keep-alive Transport) to the backend.
//
//	gosvc -port PORT -cache HOST -back URL -log FILE
//
// The inbound request /go?id=I&k=K&tid=T makes, in this order,
//
//	GET item:I on Redis             ("REDIS GET")
//	GET /back/go?id=I&k=K&tid=T     (the backend then makes k Redis calls)
//
// and appends one JSON line to FILE: the test id, the request served and the
// calls it made. That log is the ground truth; weft never reads it.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

type redisConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialRedis(host string) (*redisConn, error) {
	if _, _, err := net.SplitHostPort(host); err != nil { // HOST[:PORT]
		host = net.JoinHostPort(host, "6379")
	}
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	return &redisConn{c: c, r: bufio.NewReader(c)}, nil
}

// call sends one RESP command and returns its reply, without the type byte.
func (rc *redisConn) call(args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(rc.c, b.String()); err != nil {
		return "", err
	}
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "-"):
		return "", errors.New(line)
	case strings.HasPrefix(line, "$") && line != "$-1":
		v, err := rc.r.ReadString('\n')
		return strings.TrimRight(v, "\r\n"), err
	}
	return line[1:], nil
}

type call struct {
	Svc string `json:"svc"`
	Req string `json:"req"`
}

type record struct {
	Tid    string `json:"tid"`
	Svc    string `json:"svc"`
	Req    string `json:"req"`
	Status int    `json:"status"`
	Calls  []call `json:"calls"`
}

func main() {
	port := flag.Int("port", 8090, "port")
	cache := flag.String("cache", "", "Redis host")
	back := flag.String("back", "", "backend base URL")
	logPath := flag.String("log", "", "ground-truth log")
	poolSize := flag.Int("pool", 8, "Redis connections")
	flag.Parse()

	pool := make(chan *redisConn, *poolSize)
	for i := 0; i < *poolSize; i++ {
		rc, err := dialRedis(*cache)
		if err != nil {
			log.Fatalf("gosvc: redis: %v", err)
		}
		pool <- rc
	}
	f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var logMu sync.Mutex
	enc := json.NewEncoder(f)

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		tid, id, k := q.Get("tid"), q.Get("id"), q.Get("k")
		rec := record{Tid: tid, Svc: "go", Req: r.Method + " " + r.URL.RequestURI(), Status: 200, Calls: []call{}}
		var body strings.Builder
		rc := <-pool
		v, err := rc.call("GET", "item:"+id)
		pool <- rc
		rec.Calls = append(rec.Calls, call{"cache", "REDIS GET"})
		if err != nil {
			rec.Status = 500
		}
		body.WriteString(v)
		target := "/back/go?id=" + id + "&k=" + k + "&tid=" + tid
		resp, err := http.Get(*back + target)
		rec.Calls = append(rec.Calls, call{"back", "GET " + target})
		if err != nil {
			rec.Status = 502
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				rec.Status = 502
			}
			body.WriteString("; " + strings.TrimSpace(string(b)))
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(rec.Status)
		io.WriteString(w, body.String()+"\n")
		logMu.Lock()
		enc.Encode(rec)
		logMu.Unlock()
	})
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "go: listening on %d\n", *port)
	log.Fatal(http.Serve(ln, nil))
}

// Two goroutines hand a token back and forth over unbuffered channels: each
// round trip is two hand-offs through runtime.goready, the call the sensor
// probes in Go programs. Prints the nanoseconds a round trip took.
//
//	pingpong [-n ROUNDS]
package main

import (
	"flag"
	"fmt"
	"time"
)

func main() {
	n := flag.Int("n", 1000000, "round trips")
	flag.Parse()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	start := time.Now()
	for i := 0; i < *n; i++ {
		ping <- i
		<-pong
	}
	d := time.Since(start)
	close(ping)
	fmt.Printf("%.1f\n", float64(d.Nanoseconds())/float64(*n))
}

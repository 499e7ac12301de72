// Package netsrc is the socket scaffolding shared by Sluice's network sources
// (raw TCP, syslog, and any later line or frame based protocol).
//
// It has three parts:
//
//   - TCPServer accepts connections through component.Env.Net (so the runtime
//     can keep ports open across reloads), optionally wraps them in TLS, caps
//     the number of open connections and serves each one in its own goroutine
//     through a Conn whose Read applies the idle timeout and notices Stop.
//   - Framer cuts a byte stream into messages: newline-delimited lines, or
//     RFC 6587 octet-counted frames detected from the first byte. Each call to
//     Next reads the socket once and returns every complete message of that
//     read as one chunk; the messages are strings that point into a fresh
//     copy of the chunk's bytes (an arena, split at 32 KiB so it stays a
//     small-object allocation), so a 64 KiB read costs two or three
//     allocations, not one per line. Arenas are never pooled or reused:
//     events may outlive the read by as long as they like.
//   - UDPServer reads datagrams from a PacketConn and hands them over in
//     batches, flushed by size or a few milliseconds after the first datagram.
//
// The caller turns messages into events and passes each batch to Emit, which
// counts it and calls the Consumer from the connection's goroutine. Consume
// blocks under backpressure, and while it blocks the connection is not read:
// that is how TCP backpressure reaches the sender.
package netsrc

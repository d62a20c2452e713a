// HTTP — a small blocking HTTP/1.1 client over libcurl's easy interface: one connection per
// `HTTPConnection`, kept alive across requests, bodies streamed from and to file descriptors
// so a pack never has to fit in memory. One connection is used by one thread at a time;
// `ConnectionPool` hands them out to parallel transfers.
import CCurl
import Glibc
import MLVSystem
import Synchronization

/// curl_global_init is not thread-safe and must run once before any handle exists: a global
/// `let` is initialised exactly once, on first use, under Swift's own once-lock.
private let curlGlobal: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

public enum HTTPBody {
    case none
    case bytes([UInt8])
    /// `length` bytes of an open file from `offset` (read with pread: the caller's file
    /// position is not touched, and one file can feed several requests at once).
    case file(FileHandleFD, offset: UInt64, length: UInt64)

    var length: UInt64 {
        switch self {
        case .none: return 0
        case .bytes(let b): return UInt64(b.count)
        case .file(_, _, let n): return n
        }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; a repeated header keeps its last value.
    public var headers: [String: String]
    /// The body, unless it went to a file (error bodies always come here). At most 1 MiB is
    /// kept: a longer error message is cut, a longer successful reply is an error.
    public var body: [UInt8]
    /// Bytes written to the file sink.
    public var written: UInt64

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request that never got a complete HTTP response: refused connection, DNS failure,
/// timeout, reset. `retryable` says whether trying again could help.
public struct HTTPTransportError: Error, CustomStringConvertible {
    public let url: String
    public let message: String
    public let retryable: Bool
    public var description: String { message }
}

/// Per-request state the C callbacks reach through their user-data pointer.
private final class Exchange {
    let body: HTTPBody
    var sent: UInt64 = 0
    let sink: FileHandleFD?
    var written: UInt64 = 0
    var memory: [UInt8] = []
    var overflowed = false
    var headers: [String: String] = [:]
    var status = 0
    var failure: Error?
    let handle: UnsafeMutableRawPointer

    init(body: HTTPBody, sink: FileHandleFD?, handle: UnsafeMutableRawPointer) {
        self.body = body
        self.sink = sink
        self.handle = handle
    }
}

private let memoryCap = 1 << 20

// Tracing (`perform(trace: true)`, set by the caller) prints each request and response header
// to stderr (curl's verbose mode, through `traceLine`). Header values are shown as sent, so
// the Authorization signature appears (it proves nothing beyond one request and never
// reveals the secret key), except the session token, a credential: redacted.

/// Headers whose values are credentials, lowercased.
private let secretHeaders = ["x-amz-security-token"]

/// curl's verbose output, as curl prints it ("* " notes, "> " sent and "< " received
/// headers; bodies left out), with credential header values replaced by "[redacted]".
func traceText(_ type: curl_infotype, _ text: String) -> String? {
    let mark: String
    switch type {
    case CURLINFO_TEXT: mark = "* "
    case CURLINFO_HEADER_OUT: mark = "> "
    case CURLINFO_HEADER_IN: mark = "< "
    default: return nil
    }
    var out = ""
    // "\r\n" is one Character in Swift: both line ends are separators.
    for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        var l = String(line)
        if let colon = l.firstIndex(of: ":"), secretHeaders.contains(l[..<colon].lowercased()) {
            l = l[..<colon] + ": [redacted]"
        }
        if l.hasSuffix("\r") { l.removeLast() }
        out += mark + l + "\n"
    }
    return out
}

private let traceLine: mlv_curl_debug_cb = { _, type, data, size, _ in
    guard let data, let text = traceText(type, String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)) else { return 0 }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    return 0
}

private let readBody: mlv_curl_io_cb = { buffer, size, count, user in
    let x = Unmanaged<Exchange>.fromOpaque(user!).takeUnretainedValue()
    let room = size * count
    switch x.body {
    case .none:
        return 0
    case .bytes(let b):
        let n = min(room, b.count - Int(x.sent))
        b.withUnsafeBytes { src in
            UnsafeMutableRawPointer(buffer!).copyMemory(from: src.baseAddress! + Int(x.sent), byteCount: n)
        }
        x.sent += UInt64(n)
        return n
    case .file(let f, let offset, let length):
        let want = Int(min(UInt64(room), length - x.sent))
        if want == 0 { return 0 }
        do {
            let n = try f.pread(into: UnsafeMutableRawBufferPointer(start: buffer, count: want), at: offset + x.sent)
            if n < want {
                x.failure = IOError("read", f.path, code: EIO)   // the file shrank under us
                return Int(CURL_READFUNC_ABORT)
            }
            x.sent += UInt64(n)
            return n
        } catch {
            x.failure = error
            return Int(CURL_READFUNC_ABORT)
        }
    }
}

/// curl rewinds an upload when it must send the body again on a new connection (the server
/// answered early, or closed a kept-alive connection): the body restarts from its beginning.
private let seekBody: mlv_curl_seek_cb = { user, offset, origin in
    let x = Unmanaged<Exchange>.fromOpaque(user!).takeUnretainedValue()
    guard origin == SEEK_SET, offset >= 0, UInt64(offset) <= x.body.length else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    x.sent = UInt64(offset)
    return Int32(CURL_SEEKFUNC_OK)
}

private let writeBody: mlv_curl_io_cb = { buffer, size, count, user in
    let x = Unmanaged<Exchange>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    if x.status == 0 {
        var code = 0
        _ = mlv_curl_get_long(x.handle, CURLINFO_RESPONSE_CODE, &code)
        x.status = code
    }
    // Only a successful response's body goes to the file; an error's is read for its message.
    if let f = x.sink, (200..<300).contains(x.status) {
        do {
            try f.write(UnsafeRawBufferPointer(start: buffer, count: n))
            x.written += UInt64(n)
        } catch {
            x.failure = error
            return 0    // anything other than n aborts the transfer
        }
    } else {
        let room = memoryCap - x.memory.count
        if n > room { x.overflowed = true }
        x.memory.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: min(n, room)))
    }
    return n
}

private let readHeader: mlv_curl_io_cb = { buffer, size, count, user in
    let x = Unmanaged<Exchange>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: n), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        x.headers = [:]      // a new response (after 100 Continue, say) starts afresh
        x.status = 0
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
        x.headers[name] = value
    }
    return n
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}

public struct HTTPTimeouts: Sendable {
    /// Seconds to establish a connection.
    public var connect: Int = 10
    /// A transfer slower than 1 KiB/s for this many seconds is abandoned (and retried): a
    /// stalled connection must not hang a push forever.
    public var stall: Int = 60

    public init(connect: Int = 10, stall: Int = 60) {
        self.connect = connect
        self.stall = stall
    }
}

/// @unchecked Sendable: a connection moves between threads (through `ConnectionPool`) but is
/// used by one at a time; curl easy handles allow exactly that.
public final class HTTPConnection: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    public init() {
        precondition(curlGlobal == CURLE_OK, "curl_global_init failed")
        guard let h = curl_easy_init() else { preconditionFailure("curl_easy_init: out of memory") }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends one request. A response with any status is returned; only a failure to get one
    /// throws (`HTTPTransportError`, or the file error that aborted the transfer).
    public func perform(method: String, url: String, headers: [(String, String)], body: HTTPBody = .none,
                        sink: FileHandleFD? = nil, timeouts: HTTPTimeouts = HTTPTimeouts(), trace: Bool = false) throws -> HTTPResponse {
        // reset keeps the live connection, DNS and TLS session caches; only options go.
        curl_easy_reset(handle)
        let x = Exchange(body: body, sink: sink, handle: handle)
        let user = Unmanaged.passUnretained(x).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        // No "Expect: 100-continue" round trip before each body; curl's own Accept is noise.
        for (k, v) in headers + [("Expect", ""), ("Accept", "")] {
            list = curl_slist_append(list, v.isEmpty ? "\(k):" : "\(k): \(v)")
        }
        return try withExtendedLifetime(x) {
            try errorBuffer.withUnsafeMutableBufferPointer { eb in
                eb[0] = 0
                _ = mlv_curl_set_str(handle, CURLOPT_URL, url)
                _ = mlv_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)      // threads: no SIGALRM for DNS timeouts
                _ = mlv_curl_set_ptr(handle, CURLOPT_ERRORBUFFER, eb.baseAddress)
                _ = mlv_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, timeouts.connect)
                _ = mlv_curl_set_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1024)
                _ = mlv_curl_set_long(handle, CURLOPT_LOW_SPEED_TIME, timeouts.stall)
                _ = mlv_curl_set_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
                if trace {
                    _ = mlv_curl_set_debug(handle, traceLine)
                    _ = mlv_curl_set_long(handle, CURLOPT_VERBOSE, 1)
                }
                _ = mlv_curl_set_list(handle, CURLOPT_HTTPHEADER, list)
                _ = mlv_curl_set_cb(handle, CURLOPT_WRITEFUNCTION, writeBody)
                _ = mlv_curl_set_ptr(handle, CURLOPT_WRITEDATA, user)
                _ = mlv_curl_set_cb(handle, CURLOPT_HEADERFUNCTION, readHeader)
                _ = mlv_curl_set_ptr(handle, CURLOPT_HEADERDATA, user)
                switch method {
                case "GET": _ = mlv_curl_set_long(handle, CURLOPT_HTTPGET, 1)
                case "HEAD": _ = mlv_curl_set_long(handle, CURLOPT_NOBODY, 1)
                default: _ = mlv_curl_set_str(handle, CURLOPT_CUSTOMREQUEST, method)
                }
                if case .none = body, method == "GET" || method == "HEAD" || method == "DELETE" {
                } else {
                    // UPLOAD streams the body through the read callback whatever the method
                    // (CUSTOMREQUEST renames the PUT), with an exact Content-Length.
                    _ = mlv_curl_set_long(handle, CURLOPT_UPLOAD, 1)
                    _ = mlv_curl_set_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.length))
                    _ = mlv_curl_set_cb(handle, CURLOPT_READFUNCTION, readBody)
                    _ = mlv_curl_set_ptr(handle, CURLOPT_READDATA, user)
                    _ = mlv_curl_set_seek(handle, seekBody)
                    _ = mlv_curl_set_ptr(handle, CURLOPT_SEEKDATA, user)
                }
                let rc = curl_easy_perform(handle)
                if let f = x.failure { throw f }
                guard rc == CURLE_OK else {
                    let detail = eb[0] != 0 ? String(cString: eb.baseAddress!) : String(cString: curl_easy_strerror(rc))
                    throw HTTPTransportError(url: url, message: detail, retryable: Self.retryable(rc))
                }
                var code = 0
                _ = mlv_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &code)
                if x.overflowed && sink == nil && (200..<300).contains(code) {
                    // A reply read into memory (a listing) that is cut short would be misread.
                    throw HTTPTransportError(url: url, message: "the reply is larger than \(memoryCap >> 20) MiB, more than a listing page can be", retryable: false)
                }
                return HTTPResponse(status: code, headers: x.headers, body: x.memory, written: x.written)
            }
        }
    }

    /// Failures another attempt may get past; a bad URL or an unknown host will not.
    static func retryable(_ rc: CURLcode) -> Bool {
        switch rc {
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
             CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_SEND_FAIL_REWIND:
            return true
        default:
            return false
        }
    }
}

/// Connections for parallel transfers: taken by one thread for one request, then returned
/// so the next request reuses the warm connection.
public final class ConnectionPool: Sendable {
    private let idle = Mutex<[HTTPConnection]>([])

    public init() {}

    public func with<T>(_ body: (HTTPConnection) throws -> T) rethrows -> T {
        let c = idle.withLock { $0.popLast() } ?? HTTPConnection()
        defer { idle.withLock { $0.append(c) } }
        return try body(c)
    }
}

extension HTTPTransportError: CategorizedError {
    public var category: ErrorCategory { .system }
}

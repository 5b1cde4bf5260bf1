/// Cuts a byte stream of concatenated JSON objects (a watch response) into one object each,
/// however the chunks fall: it tracks nesting and strings, so it needs no newline between
/// objects and never splits inside one.
struct JSONObjectFramer {
    private var buffer: [UInt8] = []
    private var scanned = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var objectStart: Int?
    /// An object larger than this is an error, not a reason to grow without bound.
    let maximumObjectSize: Int

    init(maximumObjectSize: Int = 64 << 20) {
        self.maximumObjectSize = maximumObjectSize
    }

    struct OversizedObject: Error {}

    /// Appends bytes and returns every object they complete.
    mutating func append(_ bytes: some Sequence<UInt8>) throws -> [ArraySlice<UInt8>] {
        buffer.append(contentsOf: bytes)
        var objects: [ArraySlice<UInt8>] = []
        var lastEnd = 0
        while scanned < buffer.count {
            let byte = buffer[scanned]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if depth == 0 { objectStart = scanned }
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0, let start = objectStart {
                        objects.append(buffer[start...scanned])
                        objectStart = nil
                        lastEnd = scanned + 1
                    }
                default: break
                }
            }
            scanned += 1
        }
        if objectStart == nil { lastEnd = scanned }
        if lastEnd > 0 {
            // Keep only the unfinished object; copy what was found first.
            objects = objects.map { ArraySlice(Array($0)) }
            buffer.removeFirst(lastEnd)
            scanned -= lastEnd
            if let start = objectStart { objectStart = start - lastEnd }
        }
        if buffer.count > maximumObjectSize { throw OversizedObject() }
        return objects
    }

    /// Bytes of an object that had begun when the stream ended.
    var hasPartialObject: Bool { objectStart != nil }
}

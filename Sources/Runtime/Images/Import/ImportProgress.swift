/// How far an import has come: what `swiftlet ctl load` draws while the runtime imports.
public struct ImportProgress: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// Copying the archive's blobs into the content store; bytes are of the archive.
        case reading
        /// Unpacking layers into snapshots; bytes are of the (compressed) layers to unpack.
        case unpacking
    }

    public var phase: Phase
    public var bytesRead: Int64
    public var bytesTotal: Int64
    public var layersUnpacked = 0
    public var layersTotal = 0

    public init(phase: Phase, bytesRead: Int64, bytesTotal: Int64, layersUnpacked: Int = 0, layersTotal: Int = 0) {
        self.phase = phase
        self.bytesRead = bytesRead
        self.bytesTotal = bytesTotal
        self.layersUnpacked = layersUnpacked
        self.layersTotal = layersTotal
    }
}

/// Passes progress on at most every `interval`, and always when the phase or the count of
/// unpacked layers changes, so that a fast import is not slowed by its own reporting (the
/// importer reports every 64 KiB block). Used by the one thread that imports.
final class ImportProgressReporter {
    private let report: (@Sendable (ImportProgress) -> Void)?
    private let interval: Duration
    private var last: ImportProgress?
    private var lastTime = ContinuousClock.now

    init(_ report: (@Sendable (ImportProgress) -> Void)?, interval: Duration = .milliseconds(100)) {
        self.report = report
        self.interval = interval
    }

    var isActive: Bool { report != nil }

    func update(_ progress: ImportProgress) {
        guard let report else { return }
        let now = ContinuousClock.now
        let milestone = last.map { $0.phase != progress.phase || $0.layersUnpacked != progress.layersUnpacked } ?? true
        guard milestone || now - lastTime >= interval || progress.bytesRead == progress.bytesTotal && last != progress else { return }
        last = progress
        lastTime = now
        report(progress)
    }
}

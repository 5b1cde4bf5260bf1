import Dispatch
import Foundation

/// SIGTERM and SIGINT cancel a daemon's task (which then shuts down its way); the handlers stay
/// installed until `cancel()`.
struct TerminationSignals {
    private let sources: [DispatchSourceSignal]

    /// `exitAfter`: a bound on the shutdown; past it the process exits anyway (a daemon whose
    /// containers are owned by their shims loses nothing by it).
    init(cancelling task: Task<Void, any Error>, exitAfter: Duration? = nil) {
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                task.cancel()
                if let exitAfter {
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(exitAfter.components.seconds * 1000))) {
                        print("swiftlet: shutdown took longer than \(exitAfter); exiting")
                        exit(0)
                    }
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
    }
}

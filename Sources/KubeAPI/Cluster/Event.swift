/// An event (core/v1) the kubelet records about a pod or the node.
public struct Event: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Event"
    public static let plural = "events"
    public static let isNamespaced = true

    public var apiVersion: String? = Event.apiVersion
    public var kind: String? = Event.kind
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var source: Source?
    public var firstTimestamp: KubeTime?
    public var lastTimestamp: KubeTime?
    public var count: Int32?
    /// `Normal` or `Warning`.
    public var type: String?
    public var eventTime: MicroTime?
    public var action: String?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public struct Source: Codable, Sendable, Hashable {
        public var component: String?
        public var host: String?
        public init(component: String?, host: String?) {
            self.component = component
            self.host = host
        }
    }

    public init(metadata: ObjectMeta = ObjectMeta(), involvedObject: ObjectReference, reason: String?, message: String?, type: String?) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        involvedObject = try container.decodeIfPresent(ObjectReference.self, forKey: .involvedObject) ?? ObjectReference()
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        source = try container.decodeIfPresent(Source.self, forKey: .source)
        firstTimestamp = try container.decodeIfPresent(KubeTime.self, forKey: .firstTimestamp)
        lastTimestamp = try container.decodeIfPresent(KubeTime.self, forKey: .lastTimestamp)
        count = try container.decodeIfPresent(Int32.self, forKey: .count)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        eventTime = try container.decodeIfPresent(MicroTime.self, forKey: .eventTime)
        action = try container.decodeIfPresent(String.self, forKey: .action)
        reportingComponent = try container.decodeIfPresent(String.self, forKey: .reportingComponent)
        reportingInstance = try container.decodeIfPresent(String.self, forKey: .reportingInstance)
    }
}

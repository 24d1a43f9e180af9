package bench;

import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.WebSocket;

/**
 * A bare websockets-next endpoint on chat-service's socket path, with websockets-next's defaults: no authentication,
 * no state of its own. It answers every frame as Phoenix answers a join or a heartbeat (an ok reply with the frame's
 * join_ref, ref and topic), which is all the idle benchmark's sockets send, so that the same load tool drives it and
 * chat-service alike.
 */
@WebSocket(path = "/socket/websocket")
public class BareSocket {

    @OnTextMessage
    String onText(String frame) {
        // [join_ref, ref, topic, event, payload]: the reply keeps the first three
        int comma = frame.indexOf(',');
        comma = comma < 0 ? -1 : frame.indexOf(',', comma + 1);
        comma = comma < 0 ? -1 : frame.indexOf(',', comma + 1);
        return comma < 0 ? null : frame.substring(0, comma) + ",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]";
    }
}

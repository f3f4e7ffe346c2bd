package io.fleetvote.agent.lb;

/**
 * One server of a backend as {@code show servers state} and {@code show stat} report it.
 *
 * @param name        the server's name (Fleetvote uses instance ids)
 * @param address     its IPv4 address ({@code -} when it has none)
 * @param port        its port
 * @param up          op_state 2 (running): its checks pass, or it left MAINT and its first check has not failed yet
 * @param maintenance admin_state has the MAINT bit
 * @param draining    admin_state has the DRAIN bit
 * @param checkStatus the last check's status ({@code L7OK}, {@code L4CON}, {@code L7STS}, ...; {@code INI} from
 *                    enable health to the first check; empty while checks are not enabled)
 * @param sessions    current sessions (scur)
 * @param queued      requests in its queue (qcur)
 * @param total       sessions it has served since it was added (stot)
 * @param http5xx     5xx answers it gave (hrsp_5xx)
 * @param connectionErrors connection errors to it (econ)
 * @param responseErrors   response errors from it (eresp)
 * @param secondsSinceChange seconds since its state last changed (lastchg)
 * @param weight      its effective weight (0..256): what its agent-check last said, as a share of 100
 */
public record ServerState(String name, String address, int port, boolean up, boolean maintenance, boolean draining,
                          String checkStatus, long sessions, long queued, long total, long http5xx,
                          long connectionErrors, long responseErrors, long secondsSinceChange, int weight) {

  /** HAProxy sends it new requests: up, in neither maintenance nor drain, and with a weight above 0. */
  public boolean usable() {
    return up && !maintenance && !draining && weight > 0;
  }
}

"""The key agent: one process per user and home that holds the unlocked keys
for a set time (``securemsg unlock --for 8h``) and performs the private-key
operations for the commands, over a Unix socket only this user can reach.

* :mod:`.paths`: where the socket is, and the ownership and mode checks made on
  its folder and on the socket itself before anyone talks over it;
* :mod:`.client`: finding the agent (a stale socket is removed), the requests,
  and :class:`~securemsg.store.agent.client.AgentIdentity`, the
  ``core.identity.KeyHolder`` whose keys stay in the agent; starting an agent;
* :mod:`.keys`: the agent's key memory (locked in RAM, used in place, wiped);
* :mod:`.server`: the agent's loop (peer credentials, bounded requests, timeout).

Protocol: :mod:`securemsg.core.agentproto`, docs/format-agent.md. What the
agent does and does not protect: docs/threat-model.md, "The key agent".

Importing this package, :mod:`.paths` and :mod:`.client` is cheap (standard
library only): every command that unlocks looks for an agent first.
"""

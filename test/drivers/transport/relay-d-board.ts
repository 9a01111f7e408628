// A "Modbus RTU Relay (D)"-style board for tests: relays and digital inputs answering at
// one slave address on one link. The two simulators cannot share an address on their
// own (each answers the other's function codes with exception 1), so the board cuts the
// requests and hands FC02 "Read Discrete Inputs" to the input module, the rest to the relays.
import { EventEmitter } from 'node:events';
import { ModbusFramer, FC, type ModbusProfile } from '../../../drivers/relay/modbus-frames.js';
import { ModbusRelaySim } from '../../../drivers/relay/modbus.sim.js';
import { ModbusInputSim } from '../../../drivers/sensor/modbus-input.sim.js';
import type { ByteLink } from '../../../drivers/types.js';

/** The device end as one simulator sees it: writes go to the real link, 'data' is what the board routes to it. */
class BoardPart extends EventEmitter implements ByteLink {
  constructor(readonly parent: ByteLink) {
    super();
  }

  get isOpen(): boolean {
    return this.parent.isOpen;
  }

  write(data: Buffer): Promise<void> {
    return this.parent.write(data);
  }
}

export interface RelayDBoard {
  relays: ModbusRelaySim;
  inputs: ModbusInputSim;
  start(): void;
  stop(): void;
}

export function relayDBoard(link: ByteLink, options: { address: number; profile: ModbusProfile; beamInput: number }): RelayDBoard {
  const relayPart = new BoardPart(link);
  const inputPart = new BoardPart(link);
  const relays = new ModbusRelaySim(relayPart, { address: options.address, profile: options.profile });
  const inputs = new ModbusInputSim(inputPart, { address: options.address, beamInput: options.beamInput });
  const framer = new ModbusFramer({ direction: 'request', address: options.address });
  framer.on('frame', (f) => (f[1] === FC.readDiscreteInputs ? inputPart : relayPart).emit('data', f));
  const onData = (d: Buffer) => framer.push(d);
  return {
    relays,
    inputs,
    start() {
      relays.start();
      inputs.start();
      link.on('data', onData);
    },
    stop() {
      link.off('data', onData);
      framer.dispose();
      relays.stop();
      inputs.stop();
    },
  };
}

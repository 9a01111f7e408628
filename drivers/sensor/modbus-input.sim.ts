// A Modbus RTU I/O module on the device end of a link, answering FC02 "Read Discrete
// Inputs" byte for byte, with a passage beam wired to one of its inputs. Tests and the
// demo break and clear the beam; the shared fault knobs (silent, corruptChecksum,
// splitFrames, garbageBytes, slowMs) apply to every reply.
import { ByteSim, type SimLink, type SimOptions } from '../scanner/sim-base.js';
import { withModbusCrc } from '../transport/framing.js';
import { discreteInputsReply, FC, MAX_DISCRETE_INPUTS, ModbusFramer } from '../relay/modbus-frames.js';

export interface ModbusInputSimOptions extends SimOptions {
  /** Slave address. Default 1. */
  address?: number;
  /** Number of inputs on the module (Waveshare IO 8CH: 8). Default 8. */
  inputs?: number;
  /** Input the beam is wired to, 1-based. Default 1. */
  beamInput?: number;
  /** The beam pulls its input to 0 when broken (instead of 1). Default false. */
  activeLow?: boolean;
}

/** Emits 'frame' (Buffer: each valid request) besides ByteSim's events. */
export class ModbusInputSim extends ByteSim {
  readonly address: number;
  /** Input levels, index 0 = input 1. */
  readonly inputs: boolean[];
  readonly beamInput: number;
  readonly activeLow: boolean;
  /** Every valid request frame received, in order. */
  readonly frames: Buffer[] = [];
  readonly #framer: ModbusFramer;

  constructor(link: SimLink, options: ModbusInputSimOptions = {}) {
    super('modbus-input', link, options);
    this.address = options.address ?? 1;
    this.beamInput = options.beamInput ?? 1;
    this.activeLow = options.activeLow ?? false;
    this.inputs = Array.from({ length: options.inputs ?? 8 }, () => false);
    this.#framer = new ModbusFramer({ direction: 'request', address: this.address, ...(options.timers ? { timers: options.timers } : {}) });
    this.#framer.on('frame', (f) => void this.#handle(f));
    this.setBeam(false);
  }

  override stop(): void {
    super.stop();
    this.#framer.dispose();
  }

  /** Break (true) or clear (false) the beam: sets its input's level. */
  setBeam(broken: boolean): void {
    this.setInput(this.beamInput, broken !== this.activeLow);
  }

  get beamBroken(): boolean {
    return this.inputs[this.beamInput - 1] !== this.activeLow;
  }

  /** Set an input's level, 1-based. */
  setInput(input: number, on: boolean): void {
    if (input >= 1 && input <= this.inputs.length) this.inputs[input - 1] = on;
  }

  /** A person walks through: the beam is broken for `brokenMs`, then clear. */
  async pass(brokenMs = 300): Promise<void> {
    this.setBeam(true);
    await this.sleep(brokenMs);
    this.setBeam(false);
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#framer.push(chunk);
  }

  #handle(req: Buffer): Promise<void> {
    this.frames.push(req);
    this.emit('frame', req);
    const fc = req[1]!;
    if (fc !== FC.readDiscreteInputs) return this.#exception(fc, 0x01);
    const start = req.readUInt16BE(2);
    const quantity = req.readUInt16BE(4);
    if (quantity < 1 || quantity > MAX_DISCRETE_INPUTS) return this.#exception(fc, 0x03);
    if (start + quantity > this.inputs.length) return this.#exception(fc, 0x02);
    return this.sendFrame(discreteInputsReply(this.address, this.inputs.slice(start, start + quantity)), 2);
  }

  #exception(fc: number, code: number): Promise<void> {
    return this.sendFrame(withModbusCrc(Buffer.from([this.address, fc | 0x80, code])), 2);
  }
}

import { GanpoOptionsCodec } from '@ganpo/adversarial';
import { orString, propsOf } from '@ganpo/codecs';
import { PreferenceConfigCodec, PreferenceLossNameCodec } from '@ganpo/objectives';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { RunConfigCodec } from './runConfig.js';

/**
 * A `ganpo train` flag's text becomes a config value through the codec of the config key it sets, so a flag
 * declares no type of its own: adding an option is one line in a codec plus the flag's help text. The sections
 * the run config leaves open (the GANPO options, the objective) are read with their packages' codecs.
 */

type AnyDecoder = t.Decoder<unknown, unknown>;

/** The open sections of the run config, with the codecs of their keys. */
const OPEN_SECTIONS: Readonly<Record<string, t.Props>> = {
  ganpo: { ...(propsOf(GanpoOptionsCodec) ?? {}), enabled: t.boolean },
  'preference.objective': { ...(propsOf(PreferenceConfigCodec) ?? {}), loss: PreferenceLossNameCodec },
};

/** The codec of the value at `path` ('data.maxLength'), or undefined where no codec declares it. */
export function codecAt(path: string): AnyDecoder | undefined {
  let codec: AnyDecoder | undefined = RunConfigCodec;
  const keys = path.split('.');
  for (const [i, key] of keys.entries()) {
    const props: t.Props | null | undefined = OPEN_SECTIONS[keys.slice(0, i).join('.')] ?? (codec && propsOf(codec));
    codec = props?.[key];
    if (codec === undefined) return undefined;
  }
  return codec;
}

const isArrayCodec = (c: AnyDecoder): c is t.ArrayType<t.Mixed> => (c as { _tag?: string })._tag === 'ArrayType';

/** Text as `orString` reads it whatever the codec (a number, a boolean, or the text), for the error message. */
const textAsValue = (text: string): unknown => E.getOrElse<t.Errors, unknown>(() => text)(orString(t.unknown).decode(text));

/**
 * The value a flag's text stands for under `codec`: what the codec makes of the text where it takes text, else the number
 * or boolean it spells, a comma-separated list for a list codec. A value the codec refuses is still converted,
 * so that decoding the merged config reports it with the flag's name.
 */
export function valueFromText(codec: AnyDecoder | undefined, raw: unknown): unknown {
  if (typeof raw !== 'string' || codec === undefined) return raw;
  if (isArrayCodec(codec)) return raw.split(',').map((item) => valueFromText(codec.type, item));
  const asText = codec.decode(raw);
  if (E.isRight(asText)) return asText.right;
  const fromText = orString(codec as t.Mixed).decode(raw);
  return E.isRight(fromText) ? fromText.right : textAsValue(raw);
}

